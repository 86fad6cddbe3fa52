/* analyze_driver.c - `conform-analyze CAPTURE... --scenario ID ...`: the analyze subcommand
 * as a program of its own, for the golden-capture tests and the benchmark. */
#include "conform/analysis.h"

int main(int argc, char **argv)
{
	return conform_analyze_main(argc, argv);
}
