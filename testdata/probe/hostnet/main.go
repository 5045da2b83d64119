// hostnet tries to reach the host: 127.0.0.1 (the host's loopback, were the network shared) and the
// host addresses given as arguments. The sandbox has no route to either.
package main

import (
	"os"

	"plugingate.test/probe/act"
)

func main() {
	for _, addr := range os.Args[1:] {
		act.Dial("tcp", addr, "HOSTNET-PROBE\n")
	}
	act.Idle()
}
