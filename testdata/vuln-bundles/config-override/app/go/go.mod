module example.com/acme/exporter

go 1.22

require (
	golang.org/x/text v0.3.7
	github.com/gorilla/websocket v1.4.0
	github.com/dgrijalva/jwt-go v3.2.0+incompatible
)
