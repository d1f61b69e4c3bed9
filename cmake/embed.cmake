# embed.cmake - turns a file into a C array (cmake -DIN=file -DOUT=file.c -DSYMBOL=name -P embed.cmake).
# Defines `const unsigned char SYMBOL[]` (the bytes plus a NUL, so it is also a C string)
# and `const unsigned long SYMBOL_len` (the bytes without the NUL). No tool beyond CMake.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp"
     "/* generated from ${IN} by cmake/embed.cmake: do not edit */\n"
     "const unsigned char ${SYMBOL}[] = {\n${body}0x00};\n"
     "const unsigned long ${SYMBOL}_len = ${len}UL;\n")
file(RENAME "${OUT}.tmp" "${OUT}")
