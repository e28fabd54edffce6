package sender

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus/phone"
)

// Error is a failed send, classified the way courier classifies them:
// Retry when trying again later may work (the carrier or the network is
// down, slow or throttling us), final when it never will (the number is
// invalid or blacklisted, the account is out of credit, the request is
// refused).
//
// Reason is stored as the message's last_error and logged, so it names
// codes and statuses, never the phone number or the message body, and
// never a carrier's free text unless it went through Snippet.
type Error struct {
	Retry  bool
	Reason string
	// Elsewhere marks a message only another process can send now (the
	// one holding the carrier's connection, CMPP's): it is put back for
	// a moment, no attempt counted, rather than wait out a backoff.
	Elsewhere bool
}

func (e *Error) Error() string { return e.Reason }

// Retryf returns a retryable error.
func Retryf(format string, args ...any) *Error {
	return &Error{Retry: true, Reason: fmt.Sprintf(format, args...)}
}

// Elsewheref returns the error of a message only another process can send
// now.
func Elsewheref(format string, args ...any) *Error {
	return &Error{Retry: true, Elsewhere: true, Reason: fmt.Sprintf(format, args...)}
}

// Finalf returns a final error.
func Finalf(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// Retryable reports whether a send that failed with err may be tried again.
// An error that is not an *Error (a bug, a context deadline) counts as
// retryable: MaxAttempts bounds it, whereas a wrong "final" loses the
// message at once.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	return !errors.As(err, &e) || e.Retry
}

// Final reports whether a send that failed with err must not be tried
// again.
func Final(err error) bool {
	var e *Error
	return errors.As(err, &e) && !e.Retry
}

// Transport classifies an error from http.Client.Do: retryable. The
// *url.Error that wraps it quotes the request URL, which holds the phone
// number, the text and, for Kannel, the password, so only its inner error
// is kept.
func Transport(carrier string, err error) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return Retryf("%s: transport: %s", carrier, Snippet(err.Error()))
}

// HTTPStatus classifies a carrier's HTTP status: 429 and 5xx are
// retryable, anything else is final. detail is appended as is; pass it
// through Snippet if it comes from the carrier.
func HTTPStatus(carrier string, status int, detail string) *Error {
	reason := fmt.Sprintf("%s: HTTP %d", carrier, status)
	if detail != "" {
		reason += ": " + detail
	}
	return &Error{Retry: status == http.StatusTooManyRequests || status >= 500, Reason: reason}
}

// maxSnippet bounds the carrier text kept in a reason.
const maxSnippet = 120

// digitsRE finds runs of digits long enough to be a phone number.
var digitsRE = regexp.MustCompile(`\+?\d[\d -]{5,}\d`)

// Snippet makes carrier free text fit for a reason: one line, valid UTF-8,
// at most maxSnippet bytes, with anything that looks like a phone number
// masked. It cannot tell a body the carrier echoed from its own words, so
// callers pass only text carriers are known to write themselves.
func Snippet(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxSnippet {
		cut := maxSnippet
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return digitsRE.ReplaceAllStringFunc(s, phone.Mask)
}

// Field is a named setting of a send client, for Required.
type Field struct{ Name, Value string }

// Required reports the settings left empty, for a client's start-up
// check: "<who>: no Name, Name".
func Required(who string, fields ...Field) error {
	var missing []string
	for _, f := range fields {
		if f.Value == "" {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: no %s", who, strings.Join(missing, ", "))
	}
	return nil
}
