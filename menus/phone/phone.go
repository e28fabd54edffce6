// Package phone normalises the many ways a phone number reaches the gateway
// (carrier callbacks, SMS bodies, an admin's CSV) to E.164, and masks numbers
// for logs. Every lookup and every rate limit keys on the E.164 form, so a
// director is the same person whether a carrier sends +86, 0086, 86 or a bare
// eleven-digit mobile.
package phone

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/width"
)

// ErrInvalid is returned for input that is not a valid phone number.
var ErrInvalid = errors.New("phone: invalid number")

// maxInput bounds what is handed to the parser: no real number, however
// formatted, is longer, and the parser's cost grows with its input.
const maxInput = 40

// Normalizer turns raw numbers into E.164 using a default region for numbers
// written without a country code.
type Normalizer struct {
	// Region is an ISO 3166-1 alpha-2 code such as "CN".
	Region string
}

// Normalize returns the E.164 form of raw, or an error wrapping ErrInvalid.
func (n Normalizer) Normalize(raw string) (string, error) {
	s := strings.TrimSpace(width.Narrow.String(raw))
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(s) > maxInput {
		return "", fmt.Errorf("%w: too long", ErrInvalid)
	}
	region := n.Region
	if region == "" {
		region = "CN"
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !phonenumbers.IsValidNumber(num) {
		// A bare national number that carries its country code without a
		// plus ("8613800138000") is read by the parser as a national number
		// of the default region; try it again as international.
		if !strings.HasPrefix(s, "+") {
			if alt, err := phonenumbers.Parse("+"+s, region); err == nil && phonenumbers.IsValidNumber(alt) {
				return phonenumbers.Format(alt, phonenumbers.E164), nil
			}
		}
		return "", fmt.Errorf("%w: not a valid number", ErrInvalid)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// Mask hides all but the country code's first digits and the last two digits
// of a number, so logs can tell callers apart without holding their numbers.
func Mask(s string) string {
	if s == "" || strings.Contains(s, "*") {
		return s // empty, or masked already: masking twice would hide more
	}
	var b strings.Builder
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits == 0 {
		return s // no number in it: nothing to hide, and blanking it hides what it says
	}
	seen := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			if r == '+' {
				b.WriteRune(r)
			}
			continue
		}
		seen++
		if seen <= 2 && digits > 6 || seen > digits-2 {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// Masked is a phone number that logs itself masked. Use it as a slog value:
// slog.Any("phone", phone.Masked(e164)).
type Masked string

// LogValue implements slog.LogValuer.
func (m Masked) LogValue() slog.Value { return slog.StringValue(Mask(string(m))) }

// Cache remembers normalised numbers. Callers dial again and again from the
// same few thousand phones, and libphonenumber's parse is the costliest
// step of a hop after the network; a bounded map that is simply cleared
// when full keeps the cost away without an eviction policy to get wrong.
type Cache struct {
	Normalizer Normalizer
	// Size bounds the entries kept; 0 means 10000.
	Size int

	mu sync.RWMutex
	m  map[string]string
}

// Normalize is Normalizer.Normalize, remembered. Failures are not cached,
// so a flood of junk numbers cannot evict the good ones.
func (c *Cache) Normalize(raw string) (string, error) {
	c.mu.RLock()
	v, ok := c.m[raw]
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := c.Normalizer.Normalize(raw)
	if err != nil {
		return "", err
	}
	size := c.Size
	if size == 0 {
		size = 10000
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= size {
		c.m = make(map[string]string, 64)
	}
	c.m[raw] = v
	c.mu.Unlock()
	return v, nil
}
