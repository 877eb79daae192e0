/* placeholder: filled in by its part's work */
int main(void) { return 0; }
