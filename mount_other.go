//go:build !linux && !darwin

package blobber

import (
	"errors"
	"fmt"
	"runtime"
)

var errMountUnsupported = fmt.Errorf("mount is not supported on this platform (%s): %w", runtime.GOOS, errors.ErrUnsupported)

func (img *Image) mount(string, mountOptions) (*Mounted, error) { return nil, errMountUnsupported }

func unmountDir(string) error { return errMountUnsupported }
