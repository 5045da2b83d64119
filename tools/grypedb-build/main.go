// Command grypedb-build builds a schema-v6 grype vulnerability database from vunnel-style provider
// workspaces, offline, with the grype library's own builder (grype/db.Build).
//
// grype-db, the usual builder, is not reachable through the Go module proxy; since grype v0.109 the
// builder is part of grype itself, so this small program is all plugingate needs to turn the
// advisories it authors under testdata/vulndb into a real database that `grype db import` accepts.
//
// Usage:
//
//	grypedb-build [-providers DIR] [-govulndb MODULE_DIR -govulndb-time T] -out DIR [-build-time T]
//
// -providers names a folder of vunnel workspaces (testdata/vulndb, or a platform's own mirrors).
// -govulndb names the folder of a downloaded golang.org/x/vulndb module: its data/osv records (the Go
// vulnerability database, OSV) become one more workspace, "go-vulndb", stamped with -govulndb-time
// (the module version's time: the data is as old as the pin, not as the build). At least one of the
// two is needed; both are merged into one database.
//
// -build-time overrides the build timestamp the builder stamps as "now"; tests use it to make a
// database that is stale on purpose.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	grypedb "github.com/anchore/grype/grype/db"
	"github.com/anchore/grype/grype/db/provider"
	v6 "github.com/anchore/grype/grype/db/v6"
	v6build "github.com/anchore/grype/grype/db/v6/build"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "grypedb-build: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	providers := flag.String("providers", "", "folder holding one vunnel workspace per provider (<name>/metadata.json)")
	out := flag.String("out", "", "folder to write vulnerability.db into (created; must not hold a DB yet)")
	buildTime := flag.String("build-time", "", "RFC 3339 time to record as the build time instead of now")
	govulndb := flag.String("govulndb", "", "folder of a golang.org/x/vulndb module (its data/osv is read)")
	govulndbTime := flag.String("govulndb-time", "", "RFC 3339 time of that module version (the data's date)")
	archive := flag.Bool("archive", false, "also package the database as grype distributes it: a .tar.gz and latest.json")
	flag.Parse()
	if (*providers == "" && *govulndb == "") || *out == "" {
		flag.Usage()
		return errors.New("-out and at least one of -providers and -govulndb are required")
	}

	var states provider.States
	if *providers != "" {
		read, err := readStates(*providers)
		if err != nil {
			return err
		}
		states = append(states, read...)
	}
	if *govulndb != "" {
		st, tmp, err := goVulnDBState(*govulndb, *govulndbTime)
		if tmp != "" {
			defer os.RemoveAll(tmp)
		}
		if err != nil {
			return err
		}
		states = append(states, *st)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*out, v6.VulnerabilityDBFileName)); err == nil {
		return fmt.Errorf("%s already holds %s: build into an empty folder", *out, v6.VulnerabilityDBFileName)
	}
	earliest, err := states.EarliestTimestamp()
	if err != nil {
		return err
	}
	err = grypedb.Build(grypedb.BuildConfig{
		SchemaVersion: v6.ModelVersion,
		Directory:     *out,
		States:        states,
		Timestamp:     earliest,
		// NOTE: a small cache: the default 1 GiB page cache is sized for the full upstream data set.
		SQLiteCacheSizeKiB: 16 * 1024,
	})
	if err != nil {
		return fmt.Errorf("building the database: %w", err)
	}
	if *buildTime != "" {
		ts, err := time.Parse(time.RFC3339, *buildTime)
		if err != nil {
			return fmt.Errorf("-build-time: %w", err)
		}
		if err := setBuildTime(filepath.Join(*out, v6.VulnerabilityDBFileName), ts.UTC()); err != nil {
			return err
		}
	}
	if *archive {
		// NOTE: the archive and latest.json a mirror (or a test server on loopback) serves to
		// `grype db update` through GRYPE_DB_UPDATE_URL, as grype's own distribution does.
		if err := v6build.CreateArchive(*out, "tar.gz", nil); err != nil {
			return fmt.Errorf("packaging the database: %w", err)
		}
	}
	fmt.Println(filepath.Join(*out, v6.VulnerabilityDBFileName))
	return nil
}

// readStates reads every provider workspace under root and checks each result file against the
// workspace's checksum listing, so that a hand-edited advisory without a refreshed listing fails
// the build instead of being silently skipped or half-read.
func readStates(root string) (provider.States, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(root, e.Name(), "metadata.json")); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no provider workspace (<name>/metadata.json) under %s", root)
	}
	var states provider.States
	for _, name := range names {
		st, err := provider.ReadState(filepath.Join(root, name, "metadata.json"))
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", name, err)
		}
		if err := st.Verify(); err != nil {
			return nil, fmt.Errorf("provider %s: %w", name, err)
		}
		if len(st.ResultPaths()) == 0 {
			return nil, fmt.Errorf("provider %s: its listing names no result file", name)
		}
		states = append(states, *st)
	}
	return states, nil
}

func setBuildTime(dbPath string, ts time.Time) error {
	gdb, err := v6.NewLowLevelDB(dbPath, false, true, false)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dbPath, err)
	}
	res := gdb.Model(&v6.DBMetadata{}).Where("true").Update("build_timestamp", ts)
	if res.Error != nil {
		return fmt.Errorf("setting the build time: %w", res.Error)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
