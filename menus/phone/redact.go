package phone

import (
	"log/slog"
	"regexp"
)

// numberRE finds phone-number-like runs of digits in log text: seven or
// more digits, optionally after a '+', possibly split by spaces or dashes.
var numberRE = regexp.MustCompile(`\+?\d[\d -]{5,}\d`)

// sensitiveKeys are attribute keys that hold phone numbers under the names
// carriers use.
var sensitiveKeys = map[string]bool{
	"phone": true, "phoneNumber": true, "msisdn": true, "from": true, "to": true, "mobile": true, "caller": true,
}

// RedactAttr is a slog ReplaceAttr function: a second line of defence that
// masks phone numbers in any string attribute, so that a number passed to a
// log call by mistake still never reaches the log whole.
func RedactAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindString {
		return a
	}
	s := a.Value.String()
	if sensitiveKeys[a.Key] {
		return slog.String(a.Key, Mask(s))
	}
	if numberRE.MatchString(s) {
		return slog.String(a.Key, numberRE.ReplaceAllStringFunc(s, Mask))
	}
	return a
}
