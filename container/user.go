package container

import (
	"fmt"
	"strings"
)

// ValidateUser checks the syntax of --user, USER[:GROUP], where each part
// is a name or a numeric id. Whether the names exist is decided in the
// image when the container starts.
func ValidateUser(spec string) error {
	if strings.Count(spec, ":") > 1 {
		return fmt.Errorf("invalid --user %q: use USER[:GROUP], a name or numeric id for each, with one colon", spec)
	}
	return nil
}
