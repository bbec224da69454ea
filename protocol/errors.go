package protocol

import (
	"errors"
	"net/http"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// ConfigError is an error in the configuration a person gave, theirs to
// fix: platforms show it as such (Airbyte's config_error, a Fivetran
// task) instead of retrying the sync. Source's Test and Connect return
// one for a configuration that does not decode or validate, and wrap an
// error of Open in one; Open and Check may return one themselves.
type ConfigError struct {
	Err error
}

func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *ConfigError) Unwrap() error { return e.Err }

// Failure says whose an error is to fix, as the platforms ask.
type Failure int

const (
	// SystemFailure is the connector's or the API's to fix: the
	// default.
	SystemFailure Failure = iota
	// ConfigFailure is the person's who configured the sync: a
	// *ConfigError, a request the API refused as unauthorized or
	// forbidden (401, 403), or a state saved under other settings
	// (paginate.ErrCheckpointMismatch).
	ConfigFailure
	// TransientFailure may pass if the sync is tried again later: the
	// retries ran out on a throttled (429) or failing (5xx) API, or on
	// the network.
	TransientFailure
)

// Classify says whose err is to fix.
func Classify(err error) Failure {
	var ce *ConfigError
	if errors.As(err, &ce) || errors.Is(err, paginate.ErrCheckpointMismatch) {
		return ConfigFailure
	}
	var he *strategies.HTTPError
	if errors.As(err, &he) {
		switch s := he.StatusCode; {
		case s == http.StatusUnauthorized || s == http.StatusForbidden:
			return ConfigFailure
		case s == 0 || s == http.StatusTooManyRequests || s >= 500:
			return TransientFailure
		}
	}
	return SystemFailure
}
