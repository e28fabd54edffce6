package tencent_test

import (
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/tencent"
)

// TestNew: the carrier's shape, and the start-up notes that tell the
// operator the callback URLs to set, with the webhook secret kept out of
// the log.
func TestNew(t *testing.T) {
	configured := map[string]string{
		"BAREFOOT_TENCENT_SECRET_ID": sendSecretID, "BAREFOOT_TENCENT_SECRET_KEY": sendSecretKey,
		"BAREFOOT_TENCENT_SDK_APP_ID": sendAppID, "BAREFOOT_TENCENT_SIGN_NAME": sendSign,
		"BAREFOOT_TENCENT_WEBHOOK_SECRET": "own/secret",
	}
	tests := []struct {
		name      string
		env       map[string]string
		publicURL string
		sends     bool
		notes     []string
	}{
		{name: "not configured", env: map[string]string{}, publicURL: "https://gw.example.org"},
		{name: "configured", env: configured, publicURL: "https://gw.example.org", sends: true, notes: []string{
			"reply callback (回复回调) in the SMS console to https://gw.example.org/sms/tencent/<webhook secret>",
			"status callback (状态回执回调) in the SMS console to https://gw.example.org/sms/tencent/status/<webhook secret>",
		}},
		{name: "no public URL", env: configured, sends: true, notes: []string{"BAREFOOT_PUBLIC_URL is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tencent.New(gateway.CarrierEnv{Getenv: func(k string) string { return tt.env[k] }, PublicURL: tt.publicURL, Secret: "deployment-secret"})
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "tencent" || !c.Templates || c.Signs || c.SMS == nil || c.SMS.Route() != "tencent" || c.SMS.Inline() ||
				len(c.Routes) != 1 || c.Routes[0].Path != "/sms/tencent/status" || (c.Sender != nil) != tt.sends {
				t.Fatalf("carrier %+v", c)
			}
			if len(c.Notes) != len(tt.notes) {
				t.Fatalf("notes %q, want %d", c.Notes, len(tt.notes))
			}
			for i, want := range tt.notes {
				if !strings.Contains(c.Notes[i], want) || strings.Contains(c.Notes[i], "secret/") || strings.Contains(c.Notes[i], "own%2Fsecret") {
					t.Errorf("note %q, want %q and no secret", c.Notes[i], want)
				}
			}
		})
	}
}
