package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/anchore/grype/grype/db/provider"
)

// goVulnDBProvider is the provider name the Go vulnerability database is recorded under; policies
// name it in vulnerabilities.database.requireProviders.
const goVulnDBProvider = "go-vulndb"

// osvSchema is the vunnel envelope schema grype's OSV processor accepts (major version 1); the
// Go database's records are OSV 1.3.x.
const osvSchema = "https://raw.githubusercontent.com/anchore/vunnel/main/schema/vulnerability/osv/schema-1.6.1.json"

// goVulnDBState turns the data/osv records of a golang.org/x/vulndb module into a vunnel
// workspace in a temporary folder (returned, for the caller to remove) and returns its state.
//
// NOTE: every record must parse as JSON with a GO- id matching its file name; anything else fails
// the build rather than leaving a silent gap in the data.
func goVulnDBState(moduleDir, dataTime string) (*provider.State, string, error) {
	osvDir := filepath.Join(moduleDir, "data", "osv")
	entries, err := os.ReadDir(osvDir)
	if err != nil {
		return nil, "", fmt.Errorf("-govulndb: %w (is %s a golang.org/x/vulndb module folder?)", err, moduleDir)
	}
	stamp := time.Now().UTC()
	if dataTime != "" {
		if stamp, err = time.Parse(time.RFC3339, dataTime); err != nil {
			return nil, "", fmt.Errorf("-govulndb-time: %w", err)
		}
	}
	root, err := os.MkdirTemp("", "grypedb-build-govulndb-")
	if err != nil {
		return nil, "", err
	}
	writer := provider.NewWorkspaceWriter(root, goVulnDBProvider)
	var files []provider.File
	var names []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, root, fmt.Errorf("-govulndb: no OSV record in %s", osvDir)
	}
	for _, name := range names {
		raw, err := os.ReadFile(filepath.Join(osvDir, name))
		if err != nil {
			return nil, root, err
		}
		var record struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &record); err != nil {
			return nil, root, fmt.Errorf("-govulndb: %s: %w", name, err)
		}
		if !strings.HasPrefix(record.ID, "GO-") || record.ID+".json" != name {
			return nil, root, fmt.Errorf("-govulndb: %s holds id %q: not a Go vulnerability database record", name, record.ID)
		}
		envelope, err := json.Marshal(map[string]any{
			"schema":     osvSchema,
			"identifier": goVulnDBProvider + "/" + strings.ToLower(record.ID),
			"item":       json.RawMessage(raw),
		})
		if err != nil {
			return nil, root, err
		}
		file, err := writer.WriteResult(name, envelope)
		if err != nil {
			return nil, root, err
		}
		files = append(files, *file)
	}
	if err := writer.WriteListing(files); err != nil {
		return nil, root, err
	}
	listing, err := provider.NewFile(writer.ListingPath())
	if err != nil {
		return nil, root, err
	}
	listing.Path = "results/listing.xxh64"
	state := provider.State{
		Provider:            goVulnDBProvider,
		Version:             1,
		DistributionVersion: 1,
		Processor:           "plugingate-govulndb",
		Schema: provider.Schema{
			Version: "1.0.3",
			URL:     "https://raw.githubusercontent.com/anchore/vunnel/main/schema/provider-workspace-state/schema-1.0.3.json",
		},
		URLs:      []string{"https://vuln.go.dev"},
		Timestamp: stamp,
		Listing:   listing,
		Store:     "flat-file",
	}
	if err := writer.WriteState(state); err != nil {
		return nil, root, err
	}
	st, err := provider.ReadState(filepath.Join(writer.Path(), "metadata.json"))
	if err != nil {
		return nil, root, err
	}
	if err := st.Verify(); err != nil {
		return nil, root, errors.Join(errors.New("-govulndb: the workspace written does not verify"), err)
	}
	return st, root, nil
}
