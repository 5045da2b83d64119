// netproxy: an HTTP/2-capable reverse proxy that rewrites HTML, as 2020-era platform plugins were
// written. A test program for plugingate: it links old golang.org/x/net and golang.org/x/text, whose
// versions have published Go vulnerability database advisories.
package main

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/http2"
	"golang.org/x/net/idna"
	"golang.org/x/text/language"
)

func main() {
	doc, err := html.Parse(strings.NewReader("<p>plugingate</p>"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	host, _ := idna.ToASCII("bücher.example")
	tag := language.Make("de-CH")
	fmt.Println(doc.Type, host, tag, http2.ClientPreface != "")
}
