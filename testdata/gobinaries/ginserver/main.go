// ginserver: a gin web service with JWT sessions, as 2020-era platform dashboards were written. A
// test program for plugingate: it links old github.com/gin-gonic/gin and github.com/dgrijalva/jwt-go
// (and their dependencies), whose versions have published Go vulnerability database advisories.
package main

import (
	"fmt"

	"github.com/dgrijalva/jwt-go"
	"github.com/gin-gonic/gin"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/healthz", func(c *gin.Context) { c.String(200, "ok") })
	token := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "plugin"})
	fmt.Println(len(r.Routes()), token.Method.Alg())
}
