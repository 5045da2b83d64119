// declared behaves exactly as the test plugin declares: the probe must pass it.
package main

import "plugingate.test/probe/act"

func main() {
	act.Declared()
	act.Idle()
}
