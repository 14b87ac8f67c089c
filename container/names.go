package container

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// validName is Docker's rule for container names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// ValidateName returns an error naming the rule when name is not a valid
// container name.
func ValidateName(name string) error {
	if !validName.MatchString(name) || len(name) > 128 {
		return fmt.Errorf("invalid container name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit, at most 128 characters", name)
	}
	return nil
}

// maxHostname is the kernel's limit for a host name (HOST_NAME_MAX).
const maxHostname = 64

// ValidateHostname returns an error when the kernel would reject name as
// the container's host name.
func ValidateHostname(name string) error {
	if len(name) > maxHostname {
		return fmt.Errorf("invalid --hostname %q: %d bytes, the kernel allows at most %d: use a shorter name", name, len(name), maxHostname)
	}
	if strings.ContainsRune(name, 0) {
		return fmt.Errorf("invalid --hostname %q: it contains a NUL character: remove it", name)
	}
	return nil
}

// NewID returns a random 64-hex-digit container id.
func NewID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	nameAdjectives = []string{
		"amber", "brave", "calm", "clever", "eager", "fancy", "gentle", "happy",
		"jolly", "keen", "lucid", "merry", "nifty", "proud", "quiet", "rapid",
		"sharp", "sleepy", "steady", "swift", "tender", "vivid", "witty", "zen",
	}
	nameNouns = []string{
		"badger", "beaver", "condor", "dolphin", "falcon", "ferret", "gecko", "heron",
		"ibis", "jackal", "koala", "lemur", "lynx", "marmot", "narwhal", "otter",
		"panda", "quokka", "raven", "salmon", "tapir", "walrus", "yak", "zebra",
	}
)

// randomName returns a name such as "swift_otter" for a container created
// without --name.
func randomName() string {
	pick := func(words []string) string {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
		return words[n.Int64()]
	}
	return pick(nameAdjectives) + "_" + pick(nameNouns)
}
