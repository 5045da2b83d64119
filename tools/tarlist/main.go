// Command tarlist lists what Go's archive/tar reads from a tar or tar.gz archive, as Helm and
// containerd read bundles: one JSON object a line (name, typeflag, size, sha256 of the data, link
// target, mode), in archive order. The plugingate tar differential suite compares it with what GNU
// tar, bsdtar, Python's tarfile and the gate unpack. Exit 1, with the error on stderr, when the
// reader fails.
package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

type entry struct {
	Name     string `json:"name"`
	Typeflag string `json:"typeflag"`
	Size     int64  `json:"size"`
	Sha256   string `json:"sha256"`
	Linkname string `json:"linkname"`
	Mode     int64  `json:"mode"`
}

func list(path string, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	in := bufio.NewReader(f)
	var r io.Reader = in
	// The same choice as Helm's and containerd's: gzip by its magic bytes, else plain tar.
	if magic, _ := in.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(in)
		if err != nil {
			return err
		}
		defer gz.Close()
		r = gz
	}
	tr := tar.NewReader(r)
	enc := json.NewEncoder(out)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		h := sha256.New()
		if _, err := io.Copy(h, tr); err != nil {
			return err
		}
		e := entry{hdr.Name, string([]byte{hdr.Typeflag}), hdr.Size, hex.EncodeToString(h.Sum(nil)), hdr.Linkname, hdr.Mode}
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tarlist ARCHIVE")
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	err := list(os.Args[1], out)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tarlist:", err)
		os.Exit(1)
	}
}
