// undeclared-host does what is declared, then calls a host it never declared (PG-PRB-001).
package main

import "plugingate.test/probe/act"

func main() {
	act.Declared()
	act.Resolve("telemetry.evil.example")
	act.TLSHello("telemetry.evil.example", 443)
	act.Idle()
}
