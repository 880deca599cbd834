package uaconfig

import "testing"

var fullBody = []byte(`{"identityId":"8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45","clientSecretTrustedIps":[{"ipAddress":"10.0.0.0/8"},{"ipAddress":"192.168.1.5"}],
	"accessTokenTrustedIps":[{"ipAddress":"2001:db8::/32"}],"accessTokenTTL":3600,"accessTokenMaxTTL":7200,"accessTokenNumUsesLimit":0,
	"accessTokenPeriod":0,"lockoutEnabled":true,"lockoutThreshold":3,"lockoutDurationSeconds":300,"lockoutCounterResetSeconds":30}`)

// BenchmarkDecodeSettings is the CPU-only part of an attach: the decoder
// and validator on a full body.
func BenchmarkDecodeSettings(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeSettings(fullBody, "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSettingsV1 is the decoder DecodeSettings replaced, for
// comparison while it is kept.
func BenchmarkDecodeSettingsV1(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSettingsV1(fullBody, "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"); err != nil {
			b.Fatal(err)
		}
	}
}
