// writer writes outside its declared writable paths: into a read-only declared path and into a
// path it never declared, and through a link it makes in /tmp (PG-PRB-004). Its /tmp write is declared.
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
	// NOTE: a link in its writable /tmp does not make /etc writable: the probe follows it.
	_ = os.Symlink("/etc", "/tmp/e")
	act.Write("/tmp/e/acme-link")
	act.Idle()
}
