// kubeapi calls the Kubernetes API beyond its RBAC: it lists pods (granted), then reads secrets and
// deletes a pod (PG-PRB-005).
package main

import "plugingate.test/probe/act"

func main() {
	ns := act.Namespace()
	act.Kube("GET", "/api/v1/namespaces/"+ns+"/pods")
	act.Kube("GET", "/api/v1/namespaces/"+ns+"/secrets")
	act.Kube("DELETE", "/api/v1/namespaces/"+ns+"/pods/victim")
	act.Kube("GET", "/apis/apps/v1/deployments")
	act.Idle()
}
