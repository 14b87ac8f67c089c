package main

import (
	"testing"
	"time"
)

func TestParseLogTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value   string
		want    time.Time
		wantErr bool
	}{
		{value: "", want: time.Time{}},
		{value: "10m", want: now.Add(-10 * time.Minute)},
		{value: "1h30m", want: now.Add(-90 * time.Minute)},
		{value: "2024-05-01T10:00:00Z", want: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{value: "2024-05-01T10:00:00.5+02:00", want: time.Date(2024, 5, 1, 8, 0, 0, 500000000, time.UTC)},
		{value: "1714557600", want: time.Unix(1714557600, 0)},
		{value: "1714557600.25", want: time.Unix(1714557600, 250000000)},
		{value: "-5m", wantErr: true},
		{value: "yesterday", wantErr: true},
		{value: "12.x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := parseLogTime("since", tt.value, now)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
