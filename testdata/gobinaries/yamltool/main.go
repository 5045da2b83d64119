// yamltool: reads YAML configuration and talks to a websocket and an SSH endpoint, as 2020-era
// platform adapters did. A test program for plugingate: it links old gopkg.in/yaml.v2,
// gopkg.in/yaml.v3, github.com/gorilla/websocket and golang.org/x/crypto, whose versions have
// published Go vulnerability database advisories.
package main

import (
	"fmt"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/ssh"
	yamlv2 "gopkg.in/yaml.v2"
	yamlv3 "gopkg.in/yaml.v3"
)

func main() {
	var a, b map[string]any
	_ = yamlv2.Unmarshal([]byte("a: 1"), &a)
	_ = yamlv3.Unmarshal([]byte("b: 2"), &b)
	cfg := &ssh.ClientConfig{User: "plugin", HostKeyCallback: ssh.InsecureIgnoreHostKey()}
	fmt.Println(len(a), len(b), cfg.User, websocket.TextMessage)
}
