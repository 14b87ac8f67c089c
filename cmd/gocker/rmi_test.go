package main

import "testing"

func TestFamiliarTag(t *testing.T) {
	tests := map[string]string{
		"docker.io/library/mycommit:1":   "mycommit:1",
		"docker.io/team/app:2":           "team/app:2",
		"quay.io/library/app:3":          "quay.io/library/app:3",
		"localhost:5000/team/mycommit:2": "localhost:5000/team/mycommit:2",
	}
	for canonical, want := range tests {
		if got := familiarTag(canonical); got != want {
			t.Errorf("familiarTag(%q) = %q, want %q", canonical, got, want)
		}
	}
}
