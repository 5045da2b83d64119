// Command olmvalidate runs operator-framework/api's default bundle validators on an OLM bundle's
// manifests/ folder, as `operator-sdk bundle validate` does: ClusterServiceVersionValidator,
// CustomResourceDefinitionValidator and BundleValidator. It prints one JSON object per line,
// {"validator", "level", "type", "field", "detail"}, and exits 0 when it could read the bundle
// (whatever the validators found), 2 when the bundle cannot be loaded, 3 on bad usage.
//
//	olmvalidate version -o json   {"version": "..."}
//
// plugingate reads the CSV itself for the objects it checks; this helper is the second opinion of the
// library OLM's own tooling uses, so a CSV that library refuses is refused by the gate too.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/operator-framework/api/pkg/manifests"
	"github.com/operator-framework/api/pkg/validation"
	"github.com/operator-framework/api/pkg/validation/errors"
)

type result struct {
	Validator string `json:"validator"`
	Level     string `json:"level"`
	Type      string `json:"type"`
	Field     string `json:"field"`
	Detail    string `json:"detail"`
}

// version names the helper's output and the operator-framework/api release it validates with.
const version = "1.0.0+operator-framework-api.v0.9.1"

var names = []string{"ClusterServiceVersionValidator", "CustomResourceDefinitionValidator", "BundleValidator"}

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "version" {
		out, _ := json.Marshal(map[string]string{"version": version})
		fmt.Println(string(out))
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: olmvalidate BUNDLE/manifests")
		os.Exit(3)
	}
	bundle, err := manifests.GetBundleFromDir(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	objects := bundle.ObjectsToValidate()
	for i, validator := range validation.DefaultBundleValidators {
		for _, manifest := range validator.Validate(objects...) {
			emit := func(list []errors.Error) {
				for _, e := range list {
					_ = out.Encode(result{names[i], string(e.Level), string(e.Type), e.Field, e.Detail})
				}
			}
			emit(manifest.Errors)
			emit(manifest.Warnings)
		}
	}
}
