// Command k8sdecode reads Kubernetes manifest files the way kubectl does and prints the objects it
// would send, so that plugingate can check them against its own (Python) reading of the same files.
//
// It follows kubectl's resource builder (k8s.io/cli-runtime/pkg/resource) step for step, on the same
// libraries at the versions kubectl 1.32 links: each file is read through a UTF-8/UTF-16 BOM
// transform, split by apimachinery's YAML-or-JSON decoder (sigs.k8s.io/yaml semantics), each
// document decoded by the unstructured JSON scheme with kubectl's metadata check, and every object
// that is a list (meta.IsListType: it has an `items` list, whatever its kind) expanded into its
// items, breadth first, as kubectl's FlattenListVisitor does.
//
// Usage:
//
//	k8sdecode -request FILE     FILE is JSON: {"files": [{"path": "shown", "real": "/abs/path"}, ...]}
//	k8sdecode version -o json   {"version": "..."}
//
// Output (stdout, one JSON document):
//
//	{"files": [{"path": ..., "error": null | "...", "documents": [
//	    {"index": N, "error": null | "...", "objects": [{...}, ...]}]}]}
//
// "index" counts the documents the decoder returned (0-based, empty ones included). A file-level
// error is a stream error: kubectl stops reading that file there. A document error is kubectl's
// per-object error (it goes on with the next document). Exit status 0 whenever the request could
// be read; a non-zero exit means the helper itself failed.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured/unstructuredscheme"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// version names the helper's protocol and the Kubernetes libraries it decodes with.
const version = "1.0.0+k8s.v0.32.4"

type request struct {
	Files []struct {
		Path string `json:"path"`
		Real string `json:"real"`
	} `json:"files"`
}

type document struct {
	Index int     `json:"index"`
	Error *string `json:"error"`
	// Type is the apiVersion and kind of the document itself (a list's own, before expansion).
	Type    map[string]string `json:"type"`
	Objects []json.RawMessage `json:"objects"`
}

type fileResult struct {
	Path      string     `json:"path"`
	Error     *string    `json:"error"`
	Documents []document `json:"documents"`
}

type response struct {
	Files []fileResult `json:"files"`
}

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "version" {
		out, _ := json.Marshal(map[string]string{"version": version})
		fmt.Println(string(out))
		return
	}
	requestPath := flag.String("request", "", "JSON request naming the files to decode")
	flag.Parse()
	if *requestPath == "" {
		fmt.Fprintln(os.Stderr, "k8sdecode: -request FILE is required")
		os.Exit(2)
	}
	raw, err := os.ReadFile(*requestPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "k8sdecode: %v\n", err)
		os.Exit(2)
	}
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		fmt.Fprintf(os.Stderr, "k8sdecode: the request is not valid JSON: %v\n", err)
		os.Exit(2)
	}
	resp := response{Files: make([]fileResult, 0, len(req.Files))}
	for _, f := range req.Files {
		resp.Files = append(resp.Files, decodeFile(f.Path, f.Real))
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(resp); err != nil {
		fmt.Fprintf(os.Stderr, "k8sdecode: writing the answer: %v\n", err)
		os.Exit(1)
	}
}

func errText(err error) *string {
	s := err.Error()
	return &s
}

// decodeFile is kubectl's FileVisitor + StreamVisitor for one file.
func decodeFile(shown, real string) fileResult {
	result := fileResult{Path: shown, Documents: []document{}}
	f, err := os.Open(real)
	if err != nil {
		result.Error = errText(err)
		return result
	}
	defer f.Close()
	// NOTE: as kubectl's FileVisitor: a UTF-16 BOM switches the decoding, a UTF-8 BOM is dropped.
	reader := transform.NewReader(f, unicode.BOMOverride(unicode.UTF8.NewDecoder()))
	decoder := yaml.NewYAMLOrJSONDecoder(reader, 4096)
	for index := 0; ; index++ {
		ext := runtime.RawExtension{}
		if err := decoder.Decode(&ext); err != nil {
			if errors.Is(err, io.EOF) {
				return result
			}
			result.Error = errText(fmt.Errorf("error parsing %s: %w", shown, err))
			return result
		}
		ext.Raw = bytes.TrimSpace(ext.Raw)
		if len(ext.Raw) == 0 || bytes.Equal(ext.Raw, []byte("null")) {
			continue
		}
		doc := document{Index: index, Objects: []json.RawMessage{}}
		objects, gvk, err := decodeDocument(ext.Raw)
		if gvk != nil {
			apiVersion, kind := gvk.ToAPIVersionAndKind()
			doc.Type = map[string]string{"apiVersion": apiVersion, "kind": kind}
		}
		if err != nil {
			doc.Error = errText(err)
		}
		for _, obj := range objects {
			// NOTE: the encoding kubectl sends the object with.
			encoded, err := runtime.Encode(unstructured.UnstructuredJSONScheme, obj)
			if err != nil {
				doc.Error = errText(err)
				break
			}
			doc.Objects = append(doc.Objects, bytes.TrimSpace(encoded))
		}
		result.Documents = append(result.Documents, doc)
	}
}

// metadataOnly is what kubectl's metadataValidatingDecoder decodes to check that metadata is well typed.
type metadataOnly struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
}

var typer = unstructuredscheme.NewUnstructuredObjectTyper()

// decodeDocument is kubectl's mapper.infoForData (local) followed by FlattenListVisitor. The objects
// returned before an error are those kubectl would still apply.
func decodeDocument(data []byte) ([]runtime.Object, *schema.GroupVersionKind, error) {
	obj, gvk, err := unstructured.UnstructuredJSONScheme.Decode(data, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("unable to decode: %w", err)
	}
	if _, ok := obj.(runtime.Unstructured); ok {
		check := &metadataOnly{}
		if err := utiljson.Unmarshal(data, check); err != nil {
			return nil, gvk, err
		}
	}
	if !meta.IsListType(obj) {
		// NOTE: no check of the apiVersion here: kubectl maps an object without one to the kind's
		// preferred version and sends it as it is (the decoder above already required a kind).
		return []runtime.Object{obj}, gvk, nil
	}
	objects, err := expandList(obj)
	return objects, gvk, err
}

// expandList is kubectl's FlattenListVisitor: breadth first, and an error for a list inside a list
// that is not itself a decoded list.
func expandList(obj runtime.Object) ([]runtime.Object, error) {
	items := []runtime.Object{}
	toProcess := []runtime.Object{obj}
	for i := 0; i < len(toProcess); i++ {
		current := toProcess[i]
		if !meta.IsListType(current) {
			items = append(items, current)
			continue
		}
		listed, err := meta.ExtractList(current)
		if err != nil {
			return nil, err
		}
		if errs := runtime.DecodeList(listed, unstructured.UnstructuredJSONScheme); len(errs) > 0 {
			return nil, errs[0]
		}
		toProcess = append(toProcess, listed...)
	}
	out := make([]runtime.Object, 0, len(items))
	var firstErr error
	for _, item := range items {
		if _, _, err := typer.ObjectKinds(item); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("unable to get type info from the object: %w", err)
			}
			continue
		}
		out = append(out, item)
	}
	return out, firstErr
}
