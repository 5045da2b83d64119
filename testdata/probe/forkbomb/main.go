// forkbomb starts copies of itself without end; the sandbox's process limit bounds it and the
// probe reports the executions (PG-PRB-007).
package main

import (
	"os/exec"
	"time"
)

func main() {
	for {
		cmd := exec.Command("/proc/self/exe")
		_ = cmd.Start()
		time.Sleep(20 * time.Millisecond)
	}
}
