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

// Cache remembers normalised numbers. libphonenumber's parse is the
// costliest step of a hop after the network, so it is kept for numbers
// seen before, in two maps:
//
//   - the registry's own numbers (Known), replaced whole on each seeding,
//     so that a registered caller's first dial costs no parse however
//     rarely they dial;
//   - numbers learned from traffic, bounded and simply cleared when full,
//     which keeps the cost away without an eviction policy to get wrong.
//
// Junk cannot wipe the first, and filling the second only costs parses.
type Cache struct {
	Normalizer Normalizer
	// Size bounds the numbers learned from traffic; 0 means 200,000,
	// room for a large registry's numbers in the forms carriers write.
	Size int

	mu    sync.RWMutex
	m     map[string]string
	known map[string]struct{} // each normalises to itself

	seeding sync.Mutex // one Known at a time, so each builds on the last
}

// defaultSize is Cache.Size's default.
const defaultSize = 200_000

// Normalize is Normalizer.Normalize, remembered. Failures are not cached,
// so a flood of junk numbers cannot evict the good ones.
func (c *Cache) Normalize(raw string) (string, error) {
	c.mu.RLock()
	_, ok := c.known[raw]
	v := raw
	if !ok {
		v, ok = c.m[raw]
	}
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
		size = defaultSize
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= size {
		c.m = make(map[string]string, 64)
	}
	c.m[raw] = v
	c.mu.Unlock()
	return v, nil
}

// Known seeds the cache with numbers held in E.164, such as the
// registry's, in place of those seeded before: a carrier that sends one of
// them as it is costs no parse. A number is kept only if Normalize returns
// it unchanged, so that a number stored in a form the parser would rewrite
// or refuse (say, one written into the database by hand) is answered as
// before, by the parser. Checking costs a parse for each number not seeded
// last time; the others were checked then. It returns how many numbers
// were left out.
func (c *Cache) Known(e164 ...string) (refused int) {
	c.seeding.Lock()
	defer c.seeding.Unlock()
	c.mu.RLock()
	prev := c.known // replaced whole, never written: safe to read unlocked
	c.mu.RUnlock()
	next := make(map[string]struct{}, len(e164))
	for _, n := range e164 {
		if _, ok := next[n]; ok {
			continue
		}
		if _, ok := prev[n]; !ok {
			if v, err := c.Normalizer.Normalize(n); err != nil || v != n {
				refused++
				continue
			}
		}
		next[n] = struct{}{}
	}
	c.mu.Lock()
	c.known = next
	c.mu.Unlock()
	return refused
}
