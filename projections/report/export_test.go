package report

// YearWorld is yearWorld for the package's external tests.
var YearWorld = yearWorld
