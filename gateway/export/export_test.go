package export

// CleanText lets the external tests state what a text cell must hold.
var CleanText = cleanText
