module plugingate.dev/tools/tarlist

go 1.22
