package main

var restoreCommand = criuCommand("restore")
