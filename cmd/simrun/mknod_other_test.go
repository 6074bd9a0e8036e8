//go:build !unix

package main

import "errors"

func mknodNull(string) error { return errors.New("no mknod on this system") }
