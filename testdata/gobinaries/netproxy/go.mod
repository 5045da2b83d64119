module plugingate.test/netproxy

go 1.21

require (
	golang.org/x/net v0.0.0-20200202094626-16171245cfb2
	golang.org/x/text v0.3.0
)
