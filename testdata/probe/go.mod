module plugingate.test/probe

go 1.22
