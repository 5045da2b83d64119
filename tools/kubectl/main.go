// Command kubectl is kubectl itself, built from the k8s.io/kubectl module at the version the
// differential suite checks tools/k8sdecode against: the same entry point as
// k8s.io/kubernetes/cmd/kubectl (that module cannot be built with `go install`; this one can).
// The tests run it as `kubectl create --dry-run=client -o json` and nothing else.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
