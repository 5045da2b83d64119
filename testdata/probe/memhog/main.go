// memhog allocates memory without bound; the sandbox's memory limit stops it and the probe reports
// the peak (PG-PRB-006).
package main

import (
	"time"

	"plugingate.test/probe/act"
)

func main() {
	var keep [][]byte
	for i := 1; ; i++ {
		b := make([]byte, 16<<20)
		for j := range b {
			b[j] = byte(j)
		}
		keep = append(keep, b)
		if i%4 == 0 {
			act.Log("allocated %d MiB", i*16)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
