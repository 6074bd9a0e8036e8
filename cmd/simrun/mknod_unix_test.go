//go:build unix

package main

import "syscall"

// mknodNull makes a character device like /dev/null (1, 3) at path.
func mknodNull(path string) error {
	return syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3)
}
