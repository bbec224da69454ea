package spec

import (
	"fmt"
	"strings"

	"github.com/pagekit/pagekit/strategies"
)

// parseParam reads a Param: "name", "query:name", "header:Name",
// "body:dotted.path", "path:name" or "nowhere". The empty Param is the
// zero strategies.Param, the strategy's default. A name with a colon that
// is none of these places is a query parameter's, such as json-server's
// "updatedAt:gte".
func parseParam(p Param) (strategies.Param, error) {
	s := string(p)
	switch s {
	case "":
		return strategies.Param{}, nil
	case "nowhere":
		return strategies.Param{In: strategies.Nowhere}, nil
	}
	where, name, ok := strings.Cut(s, ":")
	if !ok {
		return strategies.Query(s), nil
	}
	var out strategies.Param
	switch where {
	case "query":
		out = strategies.Query(name)
	case "header":
		out = strategies.Header(name)
	case "body":
		out = strategies.Body(name)
	case "path":
		out = strategies.Path(name)
	default:
		return strategies.Query(s), nil
	}
	if name == "" {
		return out, fmt.Errorf("%q names no %s parameter: write %s:name", s, where, where)
	}
	return out, nil
}
