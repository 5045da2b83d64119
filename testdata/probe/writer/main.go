// writer writes outside its declared writable paths: into a read-only declared path and into a
// path it never declared (PG-PRB-004). Its /tmp write is declared.
package main

import (
	"os"

	"plugingate.test/probe/act"
)

func main() {
	act.Write("/tmp/ok")
	act.Write("/etc/acme/override.conf")
	_ = os.MkdirAll("/var/lib/acme", 0o755)
	act.Write("/var/lib/acme/db")
	act.Idle()
}
