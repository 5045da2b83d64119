// Package act holds what the probe's test programs do, each step a plain use of the standard
// library as a real plugin would do it: resolve, dial, speak TLS or HTTP, call the Kubernetes API
// with the mounted service-account token, write files.
package act

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Log prints one line of what the program does (the probe keeps the sandbox's output).
func Log(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
}

// TLSHello opens a TLS connection to host:port (the sink records the SNI) and closes it.
func TLSHello(host string, port int) {
	d := &net.Dialer{Timeout: 3 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", fmt.Sprintf("%s:%d", host, port), &tls.Config{ServerName: host})
	Log("tls %s:%d %v", host, port, err)
	if c != nil {
		c.Close()
	}
}

// HTTPPost sends body to http://host:port/path (the sink records the Host header and the first bytes).
func HTTPPost(host string, port int, path, body string) {
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Post(fmt.Sprintf("http://%s:%d%s", host, port, path), "text/plain", strings.NewReader(body))
	Log("post %s:%d%s %v", host, port, path, err)
	if resp != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// Dial opens a TCP connection to addr and writes payload.
func Dial(network, addr, payload string) error {
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	Log("dial %s %s %v", network, addr, err)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(payload))
	return err
}

// Resolve looks host up with the system resolver (the sink's DNS in the sandbox).
func Resolve(host string) {
	addrs, err := net.LookupHost(host)
	Log("resolve %s %v %v", host, addrs, err)
}

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// Kube calls the Kubernetes API as client-go does in a pod: KUBERNETES_SERVICE_HOST/PORT, the
// mounted CA and bearer token.
func Kube(method, path string) int {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	token, err := os.ReadFile(saDir + "/token")
	if err != nil {
		Log("kube: no token: %v", err)
		return 0
	}
	pool := x509.NewCertPool()
	if ca, err := os.ReadFile(saDir + "/ca.crt"); err == nil {
		pool.AppendCertsFromPEM(ca)
	}
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(method, "https://"+net.JoinHostPort(host, port)+path, nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := client.Do(req)
	if err != nil {
		Log("kube %s %s: %v", method, path, err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	Log("kube %s %s: %d", method, path, resp.StatusCode)
	return resp.StatusCode
}

// Namespace is the pod's namespace, as the service account mount gives it.
func Namespace() string {
	ns, err := os.ReadFile(saDir + "/namespace")
	if err != nil {
		return "default"
	}
	return strings.TrimSpace(string(ns))
}

// Write writes a small file at path.
func Write(path string) {
	err := os.WriteFile(path, []byte("state\n"), 0o600)
	Log("write %s %v", path, err)
}

// Idle keeps the program running, as a long-lived plugin does, until the probe stops it.
func Idle() {
	for {
		time.Sleep(time.Hour)
	}
}

// Declared does what the test plugin declares: it resolves and calls api-acme.example on 443,
// lists pods in its namespace and writes under /tmp.
func Declared() {
	Resolve("api-acme.example")
	TLSHello("api-acme.example", 443)
	Kube("GET", "/api/v1/namespaces/"+Namespace()+"/pods")
	Write("/tmp/exporter.state")
	_ = os.Getenv("ACME_TOKEN_TOKEN")
}
