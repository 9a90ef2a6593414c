package main

import "strconv"

// sizeFlag is a flag that takes a size as people write it (4MiB, 10GiB,
// 500MB, or plain bytes), read by parseSize as every size flag is. A value
// that is not a size fails while the flags are parsed: a usage error.
type sizeFlag struct{ n *int64 }

func (s sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s.n = n
	return nil
}

// String is the value in bytes; "0" keeps an unset flag's default out of
// its help line, which says what the default is.
func (s sizeFlag) String() string {
	if s.n == nil {
		return "0"
	}
	return strconv.FormatInt(*s.n, 10)
}

func (s sizeFlag) Type() string { return "size" }
