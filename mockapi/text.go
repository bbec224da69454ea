package mockapi

import (
	"math/rand/v2"
	"strconv"
)

// The word lists hold plain ASCII without quotes or backslashes, so a field
// built from them is valid JSON string content as is; the only character
// that needs escaping is the newline inside an address (see TestWordLists).
var (
	firstNames = [...]string{
		"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
		"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
		"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
		"Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
		"Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Dorothy", "George", "Melissa", "Timothy", "Deborah",
		"Ronald", "Stephanie", "Edward", "Rebecca", "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia",
		"Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Anna",
		"Stephen", "Brenda", "Larry", "Pamela", "Justin", "Emma", "Scott", "Nicole", "Brandon", "Helen",
		"Benjamin", "Samantha", "Samuel", "Katherine", "Gregory", "Christine", "Alexander", "Debra", "Frank", "Rachel",
		"Patrick", "Carolyn", "Raymond", "Janet", "Jack", "Catherine", "Dennis", "Maria", "Jerry", "Heather",
	}
	lastNames = [...]string{
		"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
		"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
		"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
		"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
		"Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
		"Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
		"Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
		"Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
		"Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
	}
	domains = [...]string{"example.com", "example.net", "example.org"}

	streetNames = [...]string{
		"Maple", "Oak", "Pine", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Main",
		"Church", "Highland", "Sunset", "Railroad", "Jackson", "Cherry", "Walnut", "Spring", "Ridge", "Willow",
		"Lincoln", "Madison", "Franklin", "Chestnut", "Meadow", "Forest", "River", "Valley", "Jefferson", "Adams",
		"Center", "Mill", "Union", "Prospect", "Locust", "Dogwood", "Sycamore", "Birch", "Laurel", "Hickory",
	}
	streetSuffixes = [...]string{
		"Street", "Avenue", "Road", "Lane", "Drive", "Court", "Place", "Boulevard", "Way", "Terrace",
		"Circle", "Parkway", "Trail", "Crossing", "Square", "Loop",
	}
	secondaries = [...]string{"Apt.", "Suite", "Unit"}
	cities      = [...]string{
		"Springfield", "Riverside", "Franklin", "Greenville", "Bristol", "Clinton", "Fairview", "Salem", "Madison", "Georgetown",
		"Arlington", "Ashland", "Dover", "Oxford", "Jackson", "Burlington", "Manchester", "Milton", "Newport", "Auburn",
		"Dayton", "Lexington", "Milford", "Winchester", "Hudson", "Kingston", "Mount Vernon", "Oakland", "Centerville", "Lebanon",
		"Port Jessica", "East Michael", "North Sarah", "South Daniel", "West Laura", "Lake Brian", "New Karen", "Fort Thomas", "Port Anthony", "Lake Emily",
	}
	states = [...]string{
		"AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
		"LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND",
		"OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
	}
	companySuffixes = [...]string{"Inc", "LLC", "Ltd", "Group", "PLC", "and Sons"}
	jobs            = [...]string{
		"Software engineer", "Data scientist", "Accountant, chartered", "Civil engineer, contracting",
		"Product manager", "Marketing executive", "Secondary school teacher", "Nurse, adult",
		"Financial analyst", "Mechanical engineer", "Graphic designer", "Pharmacist, community",
		"Solicitor", "Architect", "Journalist, newspaper", "Quantity surveyor", "Physiotherapist",
		"Human resources officer", "Operations manager", "Research scientist (life sciences)",
		"Sales executive", "Retail buyer", "Web designer", "Systems analyst", "Logistics manager",
		"Chief Technology Officer", "Chief Financial Officer", "Insurance underwriter",
		"Environmental consultant", "Television producer", "Translator", "Surveyor, land/geomatics",
		"Barrister", "Psychologist, clinical", "Dentist", "Veterinary surgeon", "Electrical engineer",
		"Database administrator", "IT consultant", "Public relations officer", "Copywriter, advertising",
		"Exhibition designer", "Landscape architect", "Occupational therapist", "Paramedic",
		"Restaurant manager, fast food", "Tax adviser", "Town planner", "Museum education officer",
		"Chemical engineer", "Estate agent", "Air traffic controller", "Broadcast engineer",
		"Clinical research associate", "Energy manager", "Fashion designer", "Geophysicist/field seismologist",
		"Hydrologist", "Interpreter", "Loss adjuster, chartered", "Magazine features editor",
		"Network engineer", "Oceanographer", "Pilot, airline", "Risk analyst", "Speech and language therapist",
	}
)

// person is one record's text fields, as choices from the word lists. It is
// derived again from the record's generation number and version whenever it
// is needed, instead of being stored: that keeps a million records in a few
// tens of megabytes.
type person struct {
	first, last, domain int
	emailStyle, emailN  int
	streetNum           int
	street, suffix      int
	secondary, unit     int // secondary < 0: none
	city, state, zip    int
	companyStyle        int
	companyNames        [3]int
	companySuffix       int
	job                 int
}

// Salts keep the random streams of the dataset, the text fields, the
// mutations and the faults apart for one seed.
const (
	saltData   = 0x6d6f636b64617461 // "mockdata"
	saltPerson = 0x706572736f6e0001
	saltWork   = 0x776f726b00000001
	saltMutate = 0x6d75746174650001
	saltFault  = 0x6661756c74000001
)

// pick returns a number in [0, n) from p.
func pick(p *rand.PCG, n int) int {
	return int(p.Uint64() % uint64(n))
}

// newPerson returns the text of the record with generation number gen at
// version ver. Name, email and address depend on gen only; company and job
// change with each version, so an update changes the record's content.
func newPerson(seed uint64, gen int32, ver uint32) person {
	var p person
	var r rand.PCG
	r.Seed(seed^saltPerson, uint64(gen))
	p.first = pick(&r, len(firstNames))
	p.last = pick(&r, len(lastNames))
	p.domain = pick(&r, len(domains))
	p.emailStyle = pick(&r, 3)
	p.emailN = pick(&r, 100)
	p.streetNum = 1 + pick(&r, 99999)
	p.street = pick(&r, len(streetNames))
	p.suffix = pick(&r, len(streetSuffixes))
	p.secondary = pick(&r, 3*len(secondaries)) - 2*len(secondaries)
	p.unit = 1 + pick(&r, 999)
	p.city = pick(&r, len(cities))
	p.state = pick(&r, len(states))
	p.zip = 501 + pick(&r, 99950-501)

	r.Seed(seed^saltWork, uint64(gen)<<32|uint64(ver))
	p.companyStyle = pick(&r, 4)
	for i := range p.companyNames {
		p.companyNames[i] = pick(&r, len(lastNames))
	}
	p.companySuffix = pick(&r, len(companySuffixes))
	p.job = pick(&r, len(jobs))
	return p
}

func (p *person) appendName(b []byte) []byte {
	b = append(b, firstNames[p.first]...)
	b = append(b, ' ')
	return append(b, lastNames[p.last]...)
}

func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

func (p *person) appendEmail(b []byte) []byte {
	first, last := firstNames[p.first], lastNames[p.last]
	switch p.emailStyle {
	case 0:
		b = appendLower(b, first)
		b = append(b, '.')
		b = appendLower(b, last)
	case 1:
		b = appendLower(b, first)
		b = append(b, '_')
		b = appendLower(b, last)
		b = strconv.AppendInt(b, int64(p.emailN), 10)
	default:
		b = appendLower(b, first[:1])
		b = appendLower(b, last)
		b = strconv.AppendInt(b, int64(p.emailN), 10)
	}
	b = append(b, '@')
	return append(b, domains[p.domain]...)
}

// appendAddress appends the two-line address, with newline between the
// lines: "\n" for a Go string, `\n` for JSON.
func (p *person) appendAddress(b []byte, newline string) []byte {
	b = strconv.AppendInt(b, int64(p.streetNum), 10)
	b = append(b, ' ')
	b = append(b, streetNames[p.street]...)
	b = append(b, ' ')
	b = append(b, streetSuffixes[p.suffix]...)
	if p.secondary >= 0 {
		b = append(b, ' ')
		b = append(b, secondaries[p.secondary]...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(p.unit), 10)
	}
	b = append(b, newline...)
	b = append(b, cities[p.city]...)
	b = append(b, ", "...)
	b = append(b, states[p.state]...)
	b = append(b, ' ')
	return appendDigits(b, p.zip, 5)
}

func (p *person) appendCompany(b []byte) []byte {
	n := p.companyNames
	switch p.companyStyle {
	case 0:
		b = append(b, lastNames[n[0]]...)
		b = append(b, ", "...)
		b = append(b, lastNames[n[1]]...)
		b = append(b, " and "...)
		b = append(b, lastNames[n[2]]...)
	case 1:
		b = append(b, lastNames[n[0]]...)
		b = append(b, '-')
		b = append(b, lastNames[n[1]]...)
	default:
		b = append(b, lastNames[n[0]]...)
		b = append(b, ' ')
		b = append(b, companySuffixes[p.companySuffix]...)
	}
	return b
}

func (p *person) appendJob(b []byte) []byte {
	return append(b, jobs[p.job]...)
}

// appendDigits appends v in decimal, zero-padded to width digits.
func appendDigits(b []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
		if v == 0 && width <= 0 {
			break
		}
	}
	return append(b, buf[i:]...)
}
