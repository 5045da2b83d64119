// resolver skips the cluster's resolver and asks 8.8.8.8 directly (PG-PRB-001 for 8.8.8.8:53).
package main

import (
	"context"
	"net"
	"time"

	"plugingate.test/probe/act"
)

func main() {
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: 2 * time.Second}
			return d.DialContext(ctx, "udp", "8.8.8.8:53")
		},
	}
	addrs, err := r.LookupHost(context.Background(), "direct.evil.example")
	act.Log("direct lookup %v %v", addrs, err)
	act.Idle()
}
