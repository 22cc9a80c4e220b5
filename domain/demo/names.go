package demo

// The fixed vocabularies the generator draws from. Every name is an adult's
// (staff, governors, advisory-group contacts): no pupil is ever named, and
// advisory groups and progress ratings are per group or cohort.

var firstNames = []string{
	"Aisha", "Alun", "Amara", "Anwen", "Arjun", "Beatrix", "Bethan", "Callum", "Carys", "Cerys",
	"Darius", "Delyth", "Dylan", "Eira", "Elif", "Emrys", "Farah", "Ffion", "Gareth", "Gwen",
	"Hamid", "Harriet", "Huw", "Idris", "Imogen", "Ines", "Ioan", "Jasmin", "Jonah", "Kamal",
	"Keira", "Lowri", "Luca", "Mabli", "Malik", "Mared", "Mei", "Morgan", "Nadia", "Nia",
	"Niamh", "Olu", "Owain", "Priya", "Rhodri", "Rhian", "Rosa", "Rowan", "Saira", "Seren",
	"Siân", "Tariq", "Tegan", "Teodor", "Ula", "Vikram", "Wyn", "Yasmin", "Zara", "Zofia",
}

var lastNames = []string{
	"Abara", "Bevan", "Brightwater", "Carrow", "Castellan", "Delacey", "Eldridge", "Evanson", "Fairholme", "Farrier",
	"Glyndwr-Hale", "Greaves", "Hallam", "Hendry", "Ilsley", "Jaskolski", "Kettering", "Lacey-Morgan", "Llewelyn-Price", "Marchetti",
	"Mossop", "Nairne", "Okonkwo", "Orchard", "Penhallow", "Pryce-Ellis", "Quarrie", "Radcliffe", "Rhydderch", "Saltmarsh",
	"Sandhu", "Tallis", "Thackeray", "Underhill", "Vaughan-Reed", "Wetherall", "Whitcombe", "Yardley", "Zamora", "Ashdown",
}

// schoolNames are fictional; the first word becomes the e-mail domain.
var schoolNames = []string{
	"Northvale Academy", "Brookfield Primary School", "Hollins Green Primary School", "Castlemead High School",
	"Ashby Moor Primary School", "Riverside Community School", "Kestrel Hill Primary School", "Elmstead Academy",
	"Larkspur Primary School", "Wyndham Vale High School", "Fernlea Primary School", "Oakhurst Academy",
	"Thornbury Fields Primary School", "Saltgate High School", "Meadowbank Primary School", "Harrowgate Academy",
}

var subjects = []string{
	"English", "Mathematics", "Science", "Physics", "Chemistry", "Biology", "History", "Geography", "Welsh",
	"French", "Music", "Art and Design", "Physical Education", "Computing", "Design and Technology", "Religious Education",
}

var strengthThemes = []string{
	"Achiever", "Activator", "Arranger", "Communication", "Connectedness", "Developer", "Empathy", "Focus",
	"Futuristic", "Harmony", "Ideation", "Includer", "Input", "Learner", "Positivity", "Relator", "Responsibility",
	"Strategic", "Woo", "Analytical",
}

var designCommunities = []string{"Oracy across the curriculum", "Outdoor learning", "Assessment for learning", "Digital learning", "Reading for pleasure", "Wellbeing"}

var pathways = []string{"Early career teaching", "Middle leadership", "Research-engaged practice", "Coaching and mentoring", "Inclusive practice", "Subject expertise"}

// proposalTitles are per default segment, in DefaultSegmentNames order.
var proposalTitles = [][]string{
	{"Cross-curricular project weeks", "A shared oracy framework", "Curriculum maps for transition"},
	{"Half-termly data drops by cohort", "Targeted tutoring for red areas", "Moderation with partner schools"},
	{"Teacher research fellowships", "A TeachMeet every half-term", "Lesson study in triads"},
	{"A restorative approach to behaviour", "Staff wellbeing charter", "Student voice in every ISLC"},
	{"Refurbishing the science labs", "Shared minibus timetable", "Outdoor classroom"},
	{"Bulk purchasing of CPD with partners", "Lettings of the sports hall", "A three-year budget plan"},
}

var priorityTitles = []string{
	"Academic transition from Year 6 to Year 7", "Specialist science teaching in the primaries", "Reading fluency in Key Stage 2",
	"Attendance and belonging", "Mathematics mastery across the partnership", "Leadership development for middle leaders",
}

var cpdTitles = []string{
	"Retrieval practice TeachMeet", "Metacognition in mathematics", "Adaptive teaching workshop", "Shadowing a middle leader",
	"Science practicals for primary colleagues", "Year 6 museum trip", "Partnership sports festival", "Coaching conversations",
	"Assessment without levels", "Phonics refresher",
}

var areas = []string{"Reading", "Writing", "Mathematics", "Attendance"}

var primaryCohorts = []string{"Year 2", "Year 4", "Year 6"}

var secondaryCohorts = []string{"Year 7", "Year 9", "Year 11"}

var findingTexts = []string{
	"Pastoral transition is strong; academic transition repeats earlier content.",
	"Middle leaders use the traffic-light model well and act on red areas first.",
	"Questioning in lessons is consistent; written feedback varies between departments.",
	"Reading is promoted across the school; fluency checks are not yet systematic.",
	"Attendance strategy is clear; persistent absence in one cohort needs a plan.",
}
