module plugingate.test/yamltool

go 1.21

require (
	github.com/gorilla/websocket v1.4.0
	golang.org/x/crypto v0.0.0-20200220183623-bac4c82f6975
	gopkg.in/yaml.v2 v2.2.2
	gopkg.in/yaml.v3 v3.0.0-20200313102051-9f266ea9e77c
)

require golang.org/x/sys v0.0.0-20190412213103-97732733099d // indirect
