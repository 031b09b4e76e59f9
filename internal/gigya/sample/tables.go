package sample

// The tables mix Latin and non-Latin scripts on purpose: names such as
// "Łukasz", "Мария" or "محمد" catch encoding bugs and naive ASCII
// assumptions in mappings and targets. slug is the ASCII form used to build
// email addresses, which stay ASCII like most real login IDs.

type name struct {
	text, slug string
	gender     string // m, f or u; first names only
}

var firstNames = []name{
	{"Jane", "jane", "f"}, {"John", "john", "m"}, {"Emma", "emma", "f"},
	{"Liam", "liam", "m"}, {"Olivia", "olivia", "f"}, {"Noah", "noah", "m"},
	{"Sophie", "sophie", "f"}, {"Lukas", "lukas", "m"}, {"Anna", "anna", "f"},
	{"Max", "max", "m"}, {"Laura", "laura", "f"}, {"David", "david", "m"},
	{"Alex", "alex", "u"}, {"Kim", "kim", "u"}, {"Sam", "sam", "u"},
	{"Mia", "mia", "f"}, {"Paul", "paul", "m"}, {"Julia", "julia", "f"},
	{"José", "jose", "m"}, {"Zoë", "zoe", "f"}, {"Łukasz", "lukasz", "m"},
	{"Søren", "soren", "m"}, {"Chloé", "chloe", "f"}, {"François", "francois", "m"},
	{"Björn", "bjorn", "m"}, {"Ayşe", "ayse", "f"}, {"Mária", "maria", "f"},
	{"Ngọc", "ngoc", "f"}, {"Мария", "maria", "f"}, {"Дмитрий", "dmitry", "m"},
	{"محمد", "mohammed", "m"}, {"فاطمة", "fatima", "f"}, {"李娜", "lina", "f"},
	{"伟", "wei", "m"}, {"Σοφία", "sofia", "f"}, {"さくら", "sakura", "f"},
	{"Siobhán", "siobhan", "f"}, {"Jiří", "jiri", "m"},
}

var lastNames = []name{
	{"Doe", "doe", ""}, {"Smith", "smith", ""}, {"Johnson", "johnson", ""},
	{"Brown", "brown", ""}, {"Schmidt", "schmidt", ""}, {"Martin", "martin", ""},
	{"Jensen", "jensen", ""}, {"Nowak", "nowak", ""}, {"Rossi", "rossi", ""},
	{"Dubois", "dubois", ""}, {"Silva", "silva", ""}, {"Tanaka", "tanaka", ""},
	{"Müller", "mueller", ""}, {"García", "garcia", ""}, {"Øvergaard", "overgaard", ""},
	{"Kowalczyk", "kowalczyk", ""}, {"Nguyễn", "nguyen", ""}, {"Yılmaz", "yilmaz", ""},
	{"O'Brien", "obrien", ""}, {"van der Berg", "vanderberg", ""},
	{"Иванова", "ivanova", ""}, {"Петров", "petrov", ""}, {"السيد", "elsayed", ""},
	{"王", "wang", ""}, {"李", "li", ""}, {"Παπαδόπουλος", "papadopoulos", ""},
	{"山田", "yamada", ""}, {"Dvořák", "dvorak", ""},
}

var nicknameEmoji = []string{"🌸", "🔥", "🎸", "⚽", "🐱", "✨", "🚀", "☕"}

type city struct {
	name, zip, state string
}

type country struct {
	code, locale string
	// dial is the E.164 country code plus a mobile prefix; digits is how
	// many random digits complete a plausible mobile number.
	dial   string
	digits int
	cities []city
}

var countries = []country{
	{"DE", "de_DE", "+4915", 9, []city{{"Berlin", "10115", "BE"}, {"München", "80331", "BY"}, {"Köln", "50667", "NW"}}},
	{"US", "en_US", "+1", 10, []city{{"New York", "10001", "NY"}, {"San Francisco", "94103", "CA"}, {"Austin", "78701", "TX"}}},
	{"GB", "en_GB", "+447", 9, []city{{"London", "SW1A 1AA", ""}, {"Manchester", "M1 1AE", ""}}},
	{"FR", "fr_FR", "+336", 8, []city{{"Paris", "75001", ""}, {"Lyon", "69001", ""}}},
	{"ES", "es_ES", "+346", 8, []city{{"Madrid", "28001", ""}, {"Sevilla", "41001", ""}}},
	{"PL", "pl_PL", "+485", 8, []city{{"Warszawa", "00-001", ""}, {"Kraków", "30-001", ""}, {"Łódź", "90-001", ""}}},
	{"DK", "da_DK", "+452", 7, []city{{"København", "1050", ""}, {"Aarhus", "8000", ""}}},
	{"RU", "ru_RU", "+79", 9, []city{{"Москва", "101000", ""}, {"Санкт-Петербург", "190000", ""}}},
	{"CN", "zh_CN", "+8613", 9, []city{{"北京", "100000", ""}, {"上海", "200000", ""}}},
	{"EG", "ar_EG", "+2010", 8, []city{{"القاهرة", "11511", ""}}},
	{"JP", "ja_JP", "+8190", 8, []city{{"東京", "100-0001", ""}}},
	{"BR", "pt_BR", "+55119", 8, []city{{"São Paulo", "01000-000", "SP"}}},
}

// emailDomains are reserved example domains (RFC 2606), so that a sample
// loaded into a real tenant can never mail a real person.
var emailDomains = []string{"example.com", "example.org", "example.net", "mail.example.com", "shop.example.net"}

var regSources = []string{
	"https://www.example.com/register",
	"https://www.example.com/checkout",
	"https://m.example.com/signup",
	"https://shop.example.net/account/create",
	"https://www.example.com/de/registrierung",
}

// socialProviders are weighted towards the providers most tenants use.
var socialProviders = []struct {
	name   string
	weight int
}{
	{"facebook", 40}, {"google", 35}, {"apple", 15}, {"linkedin", 10},
}

var newsletterSources = []string{"checkout", "footer", "popup", "registration", "store"}

var interests = []string{"running", "cooking", "travel", "music", "gaming", "fashion", "cycling"}

// passwordWords seed human-style passwords; some are non-ASCII because
// hashes are computed over UTF-8 and targets get that wrong surprisingly often.
var passwordWords = []string{
	"sunshine", "Dragon", "summer", "Winter", "letmein", "qwerty", "monkey",
	"Tr0ub4dor", "correct horse", "battery", "Pässwort", "contraseña",
	"пароль", "密码", "motdepasse", "Łódź", "hunter", "football",
}

const passwordSymbols = "!@#$%^&*()-_=+[]{};:,.<>/?~ "

const passwordChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + passwordSymbols
