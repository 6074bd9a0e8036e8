//go:build !unix

package atomicfile

import "errors"

func mknodNull(string) error { return errors.New("no mknod on this system") }
