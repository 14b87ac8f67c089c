package container

import (
	"strings"
	"testing"
)

func TestValidateUser(t *testing.T) {
	for _, spec := range []string{"", "app", "1000", "1000:1000", "app:staff", ":staff"} {
		if err := ValidateUser(spec); err != nil {
			t.Errorf("ValidateUser(%q) = %v, want nil", spec, err)
		}
	}
	for _, spec := range []string{"1:2:3", "app:staff:", "::"} {
		err := ValidateUser(spec)
		if err == nil {
			t.Errorf("ValidateUser(%q) = nil, want an error", spec)
			continue
		}
		if !strings.Contains(err.Error(), "USER[:GROUP]") || !strings.Contains(err.Error(), spec) {
			t.Errorf("ValidateUser(%q) = %q, want the value and the USER[:GROUP] syntax", spec, err)
		}
	}
}
