// escape tries what a container escape starts with: a new user namespace, a mount, ptrace of its
// parent, chroot. gVisor refuses or contains each; the probe reports the attempts (PG-PRB-009).
package main

import (
	"syscall"

	"plugingate.test/probe/act"
)

func main() {
	act.Log("unshare %v", syscall.Unshare(syscall.CLONE_NEWUSER|syscall.CLONE_NEWNS))
	act.Log("mount %v", syscall.Mount("none", "/tmp", "tmpfs", 0, ""))
	act.Log("ptrace %v", syscall.PtraceAttach(1))
	act.Log("chroot %v", syscall.Chroot("/tmp"))
	act.Idle()
}
