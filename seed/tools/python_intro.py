#!/usr/bin/python3
"""Generates seed/python-intro.json, the "Introduction to Python" course (run: seed/tools/python_intro.py)."""

from seedlib import dedent, exercise, fn, io, lesson, material, module, question, write_seed

# ---------------------------------------------------------------------------------------------
# Module 1: first steps -- print, variables, types, numbers
# ---------------------------------------------------------------------------------------------
m1 = module("first-steps", "First steps: printing, variables and types",
            "Write your first programs: show text, store values in variables, read input and do arithmetic.", [
    lesson("your-first-program", "Your first program", [
        material("what-is-a-program", "What is a program?", """
            # What is a program?

            A **program** is a list of instructions that the computer follows one after another,
            from top to bottom. In Python each instruction usually sits on its own line.

            The first instruction most people learn is `print`, which shows text on the screen:

            ```python
            print("Hello!")
            print("Welcome to Python.")
            ```

            Output:

            ```
            Hello!
            Welcome to Python.
            ```

            Things to notice:

            - Text in Python is written between quotes: `"Hello!"` or `'Hello!'`. Such a piece of
              text is called a **string**.
            - Every `print(...)` starts a new line of output.
            - `print()` with nothing inside prints an empty line.
            - You can print several things at once, separated by commas; Python puts a space
              between them: `print("I am", 12, "years old")` shows `I am 12 years old`.

            Python is strict about spelling: `Print("Hi")` (capital P) is an error, because the
            function is called `print`. Error messages are not a disaster — read them, they tell
            you the line and often the cause.
        """),
        exercise("hello-world", "Hello, world!", """
            Write a program that prints exactly this line:

            ```
            Hello, world!
            ```

            Mind the comma, the space and the exclamation mark.
        """, """
            # Print the greeting on the line below
        """, [io("prints the greeting", "", "Hello, world!\n", match="exact"),
              {"name": "one line", "kind": "prints", "stdin": "", "expected_prints": 1}],
            ["Use `print(...)` with the text inside quotes.",
             "The text must be exactly `Hello, world!` — capital H, a comma, one space, an exclamation mark."],
            """
            print("Hello, world!")
        """),
        exercise("three-lines", "A short poem", """
            Print this poem, one line per `print`:

            ```
            Roses are red,
            Violets are blue,
            Python is fun,
            And so are you!
            ```

            The program must print **exactly four lines**.
        """, """
            print("Roses are red,")
            # add the other three lines
        """, [{"name": "four lines", "kind": "prints", "stdin": "", "expected_prints": 4},
              io("the poem", "", "Roses are red,\nViolets are blue,\nPython is fun,\nAnd so are you!\n")],
            ["Each line of the poem is one `print(...)` call."],
            """
            print("Roses are red,")
            print("Violets are blue,")
            print("Python is fun,")
            print("And so are you!")
        """),
    ]),
    lesson("variables-and-input", "Variables and input", [
        material("variables", "Variables: giving names to values", """
            # Variables

            A **variable** is a name that refers to a value. You create one with `=`
            (read it as "becomes", not "equals"):

            ```python
            city = "Lisbon"
            year = 2024
            print(city, year)      # Lisbon 2024
            year = year + 1        # year now refers to 2025
            ```

            Rules for names: letters, digits and `_`, not starting with a digit, and case matters
            (`age` and `Age` are different). Choose names that say what the value means:
            `price` is better than `p`.

            ## Types

            Every value has a **type**. The most common ones:

            | type | examples | what it is |
            |---|---|---|
            | `int` | `7`, `-3`, `0` | whole numbers |
            | `float` | `3.14`, `2.0` | numbers with a decimal point |
            | `str` | `"hi"`, `'42'` | text (strings) |
            | `bool` | `True`, `False` | yes/no values |

            `type(x)` tells you the type: `type(2.0)` is `float`. Note that `"42"` (with quotes)
            is a string, not a number.

            ## Reading input

            `input()` waits for the user to type a line and gives it to you **as a string**:

            ```python
            name = input()
            print("Nice to meet you,", name)
            ```

            To do arithmetic with what was typed, convert it first with `int(...)` or
            `float(...)`:

            ```python
            age = int(input())
            print("Next year you will be", age + 1)
            ```
        """),
        exercise("greet-by-name", "Greet by name", """
            Read a name from the input and greet that person like this (for the name `Ada`):

            ```
            Hello, Ada!
            ```

            Tip: to glue strings together without spaces, use `+`: `"Hello, " + name + "!"`.
        """, """
            name = input()
            # print the greeting
        """, [io("Ada", "Ada\n", "Hello, Ada!\n"),
              io("Grace", "Grace\n", "Hello, Grace!\n"),
              io("a name with a space", "Mary Jane\n", "Hello, Mary Jane!\n", hidden=True)],
            ["`print(\"Hello, \" + name + \"!\")` joins three strings into one.",
             "`print(\"Hello,\", name, \"!\")` would put a space before the `!` — not what we want."],
            """
            name = input()
            print("Hello, " + name + "!")
        """),
        exercise("rectangle-area", "Area of a rectangle", """
            Read two whole numbers, the width and the height of a rectangle (each on its own
            line), and print its area.

            Example input:

            ```
            4
            5
            ```

            Output:

            ```
            20
            ```
        """, """
            width = input()
            height = input()
            # convert them to numbers and print the area
        """, [io("4 by 5", "4\n5\n", "20\n"),
              io("square", "7\n7\n", "49\n"),
              io("wide", "100\n3\n", "300\n"),
              io("zero height", "12\n0\n", "0\n", hidden=True)],
            ["`input()` returns text; `int(input())` turns it into a whole number.",
             "The area is width times height: `width * height`."],
            """
            width = int(input())
            height = int(input())
            print(width * height)
        """),
        question("type-of-values", "Which type?", "single",
                 "What does `type(\"3.5\")` give?",
                 1, choices=["float", "str", "int", "bool"],
                 explanation="The quotes make it a string. `float(\"3.5\")` would turn it into the number 3.5."),
    ]),
    lesson("working-with-numbers", "Working with numbers", [
        material("arithmetic", "Arithmetic in Python", """
            # Arithmetic

            | operator | meaning | example | result |
            |---|---|---|---|
            | `+` `-` `*` | add, subtract, multiply | `7 * 3` | `21` |
            | `/` | divide (always gives a float) | `7 / 2` | `3.5` |
            | `//` | whole-number division (rounds down) | `7 // 2` | `3` |
            | `%` | remainder of the division | `7 % 2` | `1` |
            | `**` | power | `2 ** 10` | `1024` |

            Python follows the usual order: `**` first, then `*` `/` `//` `%`, then `+` `-`.
            Use parentheses when in doubt: `(2 + 3) * 4` is `20`.

            `//` and `%` go together. To split 135 minutes into hours and minutes:

            ```python
            minutes = 135
            print(minutes // 60, "h", minutes % 60, "min")   # 2 h 15 min
            ```

            ## Rounding

            `round(x, 2)` rounds to two decimals: `round(3.14159, 2)` is `3.14`. When *printing*,
            an f-string can format a number for you: `f"{3.14159:.2f}"` gives `"3.14"` (more on
            f-strings in the next module).
        """),
        exercise("minutes-to-hours", "Minutes to hours", """
            Read a number of minutes (a whole number) and print it as hours and minutes in the
            form `H h M min`.

            Example: input `135` → output `2 h 15 min`.
        """, """
            total = int(input())
            # use // and %
        """, [io("135 minutes", "135\n", "2 h 15 min\n"),
              io("less than an hour", "45\n", "0 h 45 min\n"),
              io("exact hours", "180\n", "3 h 0 min\n", hidden=True),
              io("a whole day", "1440\n", "24 h 0 min\n", hidden=True)],
            ["`total // 60` is the number of whole hours.", "`total % 60` is what is left over."],
            """
            total = int(input())
            print(total // 60, "h", total % 60, "min")
        """),
        exercise("average-of-three", "Average of three numbers", """
            Read three numbers (they may have decimals), one per line, and print their average.

            Example: `2`, `3.5`, `4` → `3.1666666666666665` (any answer within 0.001 is fine).
        """, """
            a = float(input())
            # read the other two and print the average
        """, [io("mixed", "2\n3.5\n4\n", "3.1666666666666665\n", match="number", tolerance=0.001),
              io("whole numbers", "1\n2\n3\n", "2.0\n", match="number"),
              io("negative", "-3\n0\n1.5\n", "-0.5\n", match="number", hidden=True)],
            ["Add the three numbers and divide by 3.",
             "Use parentheses: `(a + b + c) / 3` — without them only `c` is divided."],
            """
            a = float(input())
            b = float(input())
            c = float(input())
            print((a + b + c) / 3)
        """),
        exercise("celsius-to-fahrenheit", "Celsius to Fahrenheit", """
            Complete the **function** `c_to_f(celsius)` so that it *returns* the temperature in
            degrees Fahrenheit. The formula is `F = C × 9 / 5 + 32`.

            The tests call your function directly, for example `c_to_f(100)` must return `212.0`.
            You will learn all about functions in module 6; for now just write the formula after
            `return`.
        """, """
            def c_to_f(celsius):
                return 0  # replace 0 with the formula
        """, [fn("boiling", "c_to_f", [100], 212.0),
              fn("freezing", "c_to_f", [0], 32.0),
              fn("minus forty", "c_to_f", [-40], -40.0, hidden=True),
              fn("body temperature", "c_to_f", [37], 98.6, tolerance=0.0001)],
            ["Multiplication: `celsius * 9 / 5`, then add 32."],
            """
            def c_to_f(celsius):
                return celsius * 9 / 5 + 32
        """),
        question("integer-division", "Whole-number division", "numeric",
                 "What is the value of `17 // 5 + 17 % 5`?", 5, tolerance=0,
                 explanation="`17 // 5` is 3 (5 fits three times), `17 % 5` is 2 (the remainder): 3 + 2 = 5."),
    ]),
])

# ---------------------------------------------------------------------------------------------
# Module 2: strings
# ---------------------------------------------------------------------------------------------
m2 = module("strings", "Strings", "Work with text: indexing, slicing, string methods and f-strings.", [
    lesson("string-basics", "Indexing, slicing and methods", [
        material("strings-up-close", "Strings up close", """
            # Strings up close

            A string is a sequence of characters. Each character has a position, its **index**,
            counting from **0**:

            ```python
            word = "Python"
            print(word[0])     # P
            print(word[5])     # n
            print(word[-1])    # n   (negative indexes count from the end)
            print(len(word))   # 6
            ```

            ## Slicing

            `word[start:stop]` gives the characters from `start` up to, **but not including**,
            `stop`:

            ```python
            word = "Python"
            print(word[0:2])   # Py
            print(word[2:])    # thon   (to the end)
            print(word[:3])    # Pyt    (from the start)
            print(word[::-1])  # nohtyP (a step of -1 walks backwards)
            ```

            ## Useful methods

            A method is a function that belongs to a value; you call it with a dot:

            | method | example | result |
            |---|---|---|
            | `upper()` / `lower()` | `"Hi".upper()` | `"HI"` |
            | `strip()` | `"  hi  ".strip()` | `"hi"` |
            | `replace(a, b)` | `"a-b".replace("-", "+")` | `"a+b"` |
            | `split()` | `"a b c".split()` | `["a", "b", "c"]` |
            | `count(x)` | `"banana".count("a")` | `3` |
            | `startswith(x)` | `"Python".startswith("Py")` | `True` |

            Strings never change in place: `word.upper()` gives a **new** string and leaves
            `word` as it was. Store the result if you need it: `shout = word.upper()`.

            `in` checks whether one string occurs inside another: `"th" in "Python"` is `True`.
        """),
        exercise("shout", "Shout it", """
            Read a line of text and print it in capital letters followed by an exclamation mark.

            Example: `hello there` → `HELLO THERE!`
        """, """
            text = input()
        """, [io("two words", "hello there\n", "HELLO THERE!\n"),
              io("mixed case", "PyThOn\n", "PYTHON!\n"),
              io("with digits", "room 101\n", "ROOM 101!\n", hidden=True),
              io("one letter", "a\n", "A!\n", hidden=True)],
            ["`text.upper()` gives the text in capitals.", "Join the `!` with `+`."],
            """
            text = input()
            print(text.upper() + "!")
        """),
        exercise("initials", "Initials", """
            Read a first name and a last name (on one line, separated by a space) and print the
            initials in capitals, each followed by a dot.

            Example: `ada lovelace` → `A.L.`
        """, """
            first, last = input().split()
            # print the initials
        """, [io("Ada Lovelace", "ada lovelace\n", "A.L.\n"),
              io("already capital", "Alan Turing\n", "A.T.\n"),
              io("Grace Hopper", "grace hopper\n", "G.H.\n", hidden=True)],
            ["`first[0]` is the first letter of `first`.", "`.upper()` makes a letter a capital."],
            """
            first, last = input().split()
            print(first[0].upper() + "." + last[0].upper() + ".")
        """),
        exercise("reverse-text", "Backwards", """
            Read a word and print it backwards.

            Example: `stressed` → `desserts`
        """, """
            word = input()
        """, [io("stressed", "stressed\n", "desserts\n"),
              io("one letter", "a\n", "a\n"),
              io("python", "python\n", "nohtyp\n", hidden=True),
              io("a palindrome", "level\n", "level\n")],
            ["A slice with a step of -1 walks backwards: `word[::-1]`."],
            """
            word = input()
            print(word[::-1])
        """),
        question("slice-result", "What does the slice give?", "short",
                 "What does `\"python\"[1:4]` evaluate to? (Type the characters without quotes.)",
                 ["yth"], explanation="Indexes 1, 2 and 3: `y`, `t`, `h` — the stop index 4 is not included."),
    ]),
    lesson("string-functions", "Counting and checking text", [
        material("looping-over-text", "Going through a string character by character", """
            # Going through a string

            A `for` loop can visit every character of a string in turn (loops get their own
            module later; here is a first taste):

            ```python
            for ch in "cat":
                print(ch)
            ```

            prints `c`, `a` and `t` on three lines.

            Combined with a counter, this answers questions like "how many vowels are there?":

            ```python
            count = 0
            for ch in "banana":
                if ch == "a":
                    count = count + 1
            print(count)    # 3
            ```

            `ch in "aeiou"` is `True` when `ch` is one of those letters — a handy shortcut.
        """),
        exercise("count-vowels", "Count the vowels", """
            Complete the function `count_vowels(text)` so that it returns how many vowels
            (`a e i o u`, capital or small) the text contains.

            `count_vowels("Hello World")` returns `3`.
        """, """
            def count_vowels(text):
                count = 0
                # go through text and count the vowels
                return count
        """, [fn("hello world", "count_vowels", ["Hello World"], 3),
              fn("no vowels", "count_vowels", ["rhythm"], 0),
              fn("capitals", "count_vowels", ["AEIOU aeiou"], 10, hidden=True)],
            ["Lower-case the text first, then check each character with `ch in \"aeiou\"`."],
            """
            def count_vowels(text):
                count = 0
                for ch in text.lower():
                    if ch in "aeiou":
                        count += 1
                return count
        """),
        exercise("is-palindrome", "Palindromes", """
            A palindrome reads the same forwards and backwards, like `level` or `Racecar`.
            Complete `is_palindrome(word)` so that it returns `True` for palindromes and `False`
            otherwise. Ignore the difference between capital and small letters.
        """, """
            def is_palindrome(word):
                return False
        """, [fn("level", "is_palindrome", ["level"], True),
              fn("python", "is_palindrome", ["python"], False),
              fn("mixed case", "is_palindrome", ["Racecar"], True, hidden=True)],
            ["Compare the word with its reverse: `word[::-1]`.",
             "Lower-case it first so that `R` and `r` count as the same letter."],
            """
            def is_palindrome(word):
                w = word.lower()
                return w == w[::-1]
        """),
        material("f-strings", "Formatting with f-strings", """
            # f-strings

            Put an `f` before the quotes and you can place values inside `{}`:

            ```python
            name = "Ada"
            apples = 3
            price = 0.5
            print(f"{name} buys {apples} apples for {apples * price} euros")
            # Ada buys 3 apples for 1.5 euros
            ```

            After a colon you can say how to format the value:

            - `{x:.2f}` — two decimals: `f"{2.5:.2f}"` → `2.50`
            - `{x:>5}` — right-aligned in 5 characters
            - `{x:,}` — thousands separators: `f"{1234567:,}"` → `1,234,567`
        """),
        exercise("receipt-line", "A receipt line", """
            Read a product name and its price (a number, on the next line) and print a receipt
            line with the price shown with exactly two decimals:

            ```
            Coffee: 2.50 EUR
            ```

            for the input `Coffee` and `2.5`.
        """, """
            product = input()
            price = float(input())
        """, [io("coffee", "Coffee\n2.5\n", "Coffee: 2.50 EUR\n"),
              io("rounded", "Tea\n1.999\n", "Tea: 2.00 EUR\n"),
              io("whole price", "Book\n12\n", "Book: 12.00 EUR\n", hidden=True)],
            ["`f\"{price:.2f}\"` shows a number with two decimals."],
            """
            product = input()
            price = float(input())
            print(f"{product}: {price:.2f} EUR")
        """),
    ]),
])

# ---------------------------------------------------------------------------------------------
# Module 3: conditionals
# ---------------------------------------------------------------------------------------------
m3 = module("conditionals", "Making decisions", "Let programs choose: comparisons, if/elif/else, and, or, not.", [
    lesson("if-else", "if, elif and else", [
        material("comparisons-and-if", "Comparisons and if", """
            # Making decisions

            A **comparison** gives a `bool`, `True` or `False`:

            | | meaning |
            |---|---|
            | `a == b` | equal (two `=` signs; one `=` assigns!) |
            | `a != b` | not equal |
            | `a < b`, `a <= b`, `a > b`, `a >= b` | less / greater (or equal) |

            `if` runs a block of code only when a condition is true. The block is the
            **indented** lines below it (4 spaces is the convention):

            ```python
            temperature = int(input())
            if temperature > 25:
                print("It's hot")
            elif temperature > 15:
                print("It's mild")
            else:
                print("It's cold")
            print("Have a nice day")      # not indented: always runs
            ```

            Python checks the conditions from top to bottom and runs **only the first** block
            whose condition is true; `else` catches everything else. `elif` and `else` are
            optional.

            ## Combining conditions

            - `a and b` — true when both are true
            - `a or b` — true when at least one is true
            - `not a` — the opposite

            ```python
            if age >= 13 and age <= 19:
                print("teenager")
            ```

            Python also lets you write that as `13 <= age <= 19`.
        """),
        exercise("even-or-odd", "Even or odd?", """
            Read a whole number and print `even` if it is even, `odd` otherwise.

            A number is even when the remainder of dividing it by 2 is 0.
        """, """
            n = int(input())
        """, [io("four", "4\n", "even\n"),
              io("seven", "7\n", "odd\n"),
              io("zero", "0\n", "even\n", hidden=True),
              io("negative", "-3\n", "odd\n", hidden=True)],
            ["`n % 2` is the remainder after dividing by 2.", "Compare with `==`, not `=`."],
            """
            n = int(input())
            if n % 2 == 0:
                print("even")
            else:
                print("odd")
        """),
        exercise("is-even", "is_even as a function", """
            Complete the function `is_even(n)`: it returns `True` when `n` is even and `False`
            when it is odd.

            Bonus: a comparison already *is* `True` or `False`, so the body can be one line.
        """, """
            def is_even(n):
                pass
        """, [fn("four", "is_even", [4], True, expected_type="bool"),
              fn("nine", "is_even", [9], False, expected_type="bool"),
              fn("zero", "is_even", [0], True, hidden=True)],
            ["`return n % 2 == 0` returns the result of the comparison directly."],
            """
            def is_even(n):
                return n % 2 == 0
        """),
        exercise("largest-of-three", "The largest of three", """
            Read three whole numbers (one per line) and print the largest, **without** using
            the built-in `max`.
        """, """
            a = int(input())
            b = int(input())
            c = int(input())
        """, [io("last is largest", "1\n2\n3\n", "3\n"),
              io("first is largest", "9\n4\n7\n", "9\n"),
              io("ties", "5\n5\n2\n", "5\n", hidden=True),
              io("negatives", "-8\n-2\n-5\n", "-2\n", hidden=True)],
            ["Start with `largest = a`, then replace it when `b` or `c` is bigger."],
            """
            a = int(input())
            b = int(input())
            c = int(input())
            largest = a
            if b > largest:
                largest = b
            if c > largest:
                largest = c
            print(largest)
        """),
        question("which-branch", "Which line is printed?", "single", """
            What does this program print?

            ```python
            x = 15
            if x > 10:
                print("A")
            elif x > 5:
                print("B")
            else:
                print("C")
            ```
        """, 0, choices=["A", "B", "A and then B", "C"],
                 explanation="Only the first true branch runs. `x > 10` is true, so `A` is printed and the rest is skipped."),
    ]),
    lesson("more-decisions", "Decisions in practice", [
        material("truthiness", "Booleans and truthiness", """
            # True, False and "truthy" values

            Conditions don't have to be comparisons. Python treats these values as **false**:
            `False`, `0`, `0.0`, `""` (the empty string), `[]` (an empty list), `{}` and `None`.
            Everything else counts as **true**:

            ```python
            name = input()
            if name:
                print("Hi,", name)
            else:
                print("You didn't type anything")
            ```

            Functions that answer a yes/no question usually return a `bool`, and their names
            often start with `is_` or `has_`: `is_even(4)`, `is_leap_year(2024)`.
        """),
        exercise("letter-grade", "Letter grades", """
            Read a score from 0 to 100 and print its letter grade:

            | score | grade |
            |---|---|
            | 90 and above | A |
            | 80–89 | B |
            | 70–79 | C |
            | 60–69 | D |
            | below 60 | F |
        """, """
            score = int(input())
        """, [io("95", "95\n", "A\n"),
              io("exactly 80", "80\n", "B\n"),
              io("72", "72\n", "C\n"),
              io("boundary 60", "60\n", "D\n", hidden=True),
              io("59", "59\n", "F\n", hidden=True)],
            ["Check the highest grade first: `if score >= 90`, then `elif score >= 80`, …",
             "Because only the first true branch runs, `elif score >= 80` only sees scores below 90."],
            """
            score = int(input())
            if score >= 90:
                print("A")
            elif score >= 80:
                print("B")
            elif score >= 70:
                print("C")
            elif score >= 60:
                print("D")
            else:
                print("F")
        """),
        exercise("leap-year", "Leap years", """
            Complete `is_leap_year(year)`. A year is a leap year when it is divisible by 4,
            **except** years divisible by 100, which are leap years only when they are also
            divisible by 400. So 2024 and 2000 are leap years; 1900 and 2023 are not.
        """, """
            def is_leap_year(year):
                return False
        """, [fn("2024", "is_leap_year", [2024], True),
              fn("2023", "is_leap_year", [2023], False),
              fn("1900", "is_leap_year", [1900], False, hidden=True),
              fn("2000", "is_leap_year", [2000], True, hidden=True)],
            ["`year % 4 == 0` means divisible by 4.",
             "One way: `(year % 4 == 0 and year % 100 != 0) or year % 400 == 0`."],
            """
            def is_leap_year(year):
                return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        """),
        exercise("cinema-ticket", "Cinema tickets", """
            A cinema charges by age: children under 12 pay **5**, people aged 65 or more pay
            **6**, everyone else pays **10**. Read an age and print `Price: N` with the right
            price.

            Answers are checked without caring about upper or lower case, so `price: 5` is also
            accepted.
        """, """
            age = int(input())
        """, [io("child", "8\n", "Price: 5\n", match="ignore_case"),
              io("adult", "30\n", "Price: 10\n", match="ignore_case"),
              io("senior", "65\n", "Price: 6\n", match="ignore_case"),
              io("twelve is not a child", "12\n", "Price: 10\n", match="ignore_case", hidden=True)],
            ["Use `if age < 12`, `elif age >= 65`, `else`."],
            """
            age = int(input())
            if age < 12:
                price = 5
            elif age >= 65:
                price = 6
            else:
                price = 10
            print("Price:", price)
        """),
        question("falsy-values", "Which values are false?", "multiple",
                 "Which of these values count as **false** in an `if` condition? (Choose all that apply.)",
                 [0, 2, 4], choices=["0", "\"0\"", "\"\"", "[0]", "None"],
                 explanation="`0`, the empty string and `None` are false. `\"0\"` is a non-empty string and `[0]` a non-empty list, so both are true."),
    ]),
])

# ---------------------------------------------------------------------------------------------
# Module 4: loops
# ---------------------------------------------------------------------------------------------
m4 = module("loops", "Loops", "Repeat work with for and while, count with range, stop early with break.", [
    lesson("for-loops", "for loops and range", [
        material("for-and-range", "Repeating with for", """
            # for loops

            A `for` loop runs its indented block once for every value in a sequence:

            ```python
            for fruit in ["apple", "pear", "plum"]:
                print("I like", fruit)
            ```

            To repeat something a number of times, loop over `range`:

            | call | values |
            |---|---|
            | `range(5)` | 0, 1, 2, 3, 4 |
            | `range(1, 6)` | 1, 2, 3, 4, 5 |
            | `range(0, 10, 2)` | 0, 2, 4, 6, 8 |
            | `range(5, 0, -1)` | 5, 4, 3, 2, 1 |

            As with slices, the stop value is **not** included.

            ## The accumulator pattern

            Many loops build up a result step by step. Start with a neutral value, then update
            it in every round:

            ```python
            total = 0
            for n in range(1, 11):
                total = total + n      # or: total += n
            print(total)               # 55
            ```

            `print(x, end=" ")` prints without going to a new line, which is handy when you
            want several values on one line.
        """),
        exercise("count-to-n", "Count to n", """
            Read a whole number `n` (at least 1) and print the numbers from 1 to `n`, one per
            line.
        """, """
            n = int(input())
        """, [io("five", "5\n", "1\n2\n3\n4\n5\n"),
              io("one", "1\n", "1\n"),
              {"name": "twelve lines", "kind": "prints", "stdin": "12\n", "expected_prints": 12, "hidden": True}],
            ["`range(1, n + 1)` goes from 1 up to and including `n`."],
            """
            n = int(input())
            for i in range(1, n + 1):
                print(i)
        """),
        exercise("sum-to-n", "Sum of 1 to n", """
            Read a whole number `n` and print the sum `1 + 2 + … + n`, using a loop.
        """, """
            n = int(input())
            total = 0
            # add the numbers to total
            print(total)
        """, [io("ten", "10\n", "55\n"),
              io("one", "1\n", "1\n"),
              io("two", "2\n", "3\n"),
              io("hundred", "100\n", "5050\n", hidden=True)],
            ["Loop over `range(1, n + 1)` and add each number to `total`."],
            """
            n = int(input())
            total = 0
            for i in range(1, n + 1):
                total += i
            print(total)
        """),
        exercise("times-table", "Times table", """
            Read a whole number `n` and print its times table from 1 to 10 in this form (for
            `n = 3`):

            ```
            3 x 1 = 3
            3 x 2 = 6
            ...
            3 x 10 = 30
            ```
        """, """
            n = int(input())
        """, [io("three", "3\n", "".join("3 x %d = %d\n" % (i, 3 * i) for i in range(1, 11))),
              io("seven", "7\n", "".join("7 x %d = %d\n" % (i, 7 * i) for i in range(1, 11)), hidden=True)],
            ["Loop `i` over `range(1, 11)`.", "`print(f\"{n} x {i} = {n * i}\")`"],
            """
            n = int(input())
            for i in range(1, 11):
                print(f"{n} x {i} = {n * i}")
        """),
        exercise("fizzbuzz", "FizzBuzz", """
            The classic: read `n` and print the numbers from 1 to `n`, but print `Fizz` instead
            of multiples of 3, `Buzz` instead of multiples of 5, and `FizzBuzz` instead of
            multiples of both.
        """, """
            n = int(input())
            for i in range(1, n + 1):
                print(i)
        """, [io("up to 15", "15\n", "1\n2\nFizz\n4\nBuzz\nFizz\n7\n8\nFizz\nBuzz\n11\nFizz\n13\n14\nFizzBuzz\n"),
              io("up to 5", "5\n", "1\n2\nFizz\n4\nBuzz\n"),
              io("up to 30", "30\n", "".join(("FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else str(i)) + "\n" for i in range(1, 31)), hidden=True)],
            ["Check \"multiple of both\" (`i % 15 == 0`) **first**, otherwise `Fizz` wins for 15.",
             "Use `if` / `elif` / `elif` / `else`."],
            """
            n = int(input())
            for i in range(1, n + 1):
                if i % 15 == 0:
                    print("FizzBuzz")
                elif i % 3 == 0:
                    print("Fizz")
                elif i % 5 == 0:
                    print("Buzz")
                else:
                    print(i)
        """),
        question("range-count", "How many rounds?", "numeric",
                 "How many times does the body of `for i in range(2, 10, 3):` run?", 3, tolerance=0,
                 explanation="The values are 2, 5 and 8; the next one, 11, is past the stop value 10."),
    ]),
    lesson("while-loops", "while loops, break and continue", [
        material("while-and-break", "Repeating while a condition holds", """
            # while loops

            A `while` loop repeats as long as its condition is true. Use it when you don't know
            in advance how many rounds you need:

            ```python
            n = 1
            while n < 100:
                n = n * 2
            print(n)     # 128
            ```

            Make sure something in the loop changes the condition, or it runs forever (stop a
            runaway program with Ctrl+C).

            ## break and continue

            - `break` leaves the loop at once.
            - `continue` skips the rest of this round and goes on with the next.

            A common pattern reads input until a stop word:

            ```python
            while True:
                line = input()
                if line == "stop":
                    break
                print("You said", line)
            ```
        """),
        exercise("countdown", "Countdown", """
            Read a whole number `n` and count down to 1 using a `while` loop, then print
            `Liftoff!`. For `n = 3`:

            ```
            3
            2
            1
            Liftoff!
            ```
        """, """
            n = int(input())
            # count down with a while loop here
            print("Liftoff!")
        """, [io("three", "3\n", "3\n2\n1\nLiftoff!\n"),
              io("one", "1\n", "1\nLiftoff!\n"),
              io("zero", "0\n", "Liftoff!\n", hidden=True)],
            ["Inside the loop: `print(n)` and then `n = n - 1`.", "Print `Liftoff!` after the loop (not indented)."],
            """
            n = int(input())
            while n > 0:
                print(n)
                n = n - 1
            print("Liftoff!")
        """),
        exercise("sum-until-zero", "Add until zero", """
            Read whole numbers, one per line, until the number `0` is read. Then print their
            sum (the `0` ends the input and is not part of it).
        """, """
            total = 0
            while True:
                n = int(input())
                # stop at 0, otherwise add n to total
            print(total)
        """, [io("three numbers", "4\n5\n6\n0\n", "15\n"),
              io("only zero", "0\n", "0\n"),
              io("negatives", "10\n-3\n-2\n0\n", "5\n", hidden=True)],
            ["`if n == 0: break` leaves the loop.", "Otherwise `total += n`."],
            """
            total = 0
            while True:
                n = int(input())
                if n == 0:
                    break
                total += n
            print(total)
        """),
        exercise("factorial", "Factorial", """
            The factorial of `n`, written `n!`, is `1 × 2 × … × n`, and `0!` is `1`. Complete
            `factorial(n)` with a loop so that it returns `n!`.
        """, """
            def factorial(n):
                result = 1
                # multiply result by 1, 2, ..., n
                return 0
        """, [fn("5!", "factorial", [5], 120),
              fn("0!", "factorial", [0], 1),
              fn("10!", "factorial", [10], 3628800, hidden=True)],
            ["Start from `result = 1` (multiplying by 1 changes nothing).",
             "`for i in range(1, n + 1): result *= i`, then `return result`."],
            """
            def factorial(n):
                result = 1
                for i in range(1, n + 1):
                    result *= i
                return result
        """),
        exercise("digit-sum", "Sum of digits", """
            Complete `digit_sum(n)`, which returns the sum of the digits of a non-negative whole
            number: `digit_sum(4821)` is `4 + 8 + 2 + 1 = 15`.

            Try it with a `while` loop and `%` / `//`: `n % 10` is the last digit and `n // 10`
            drops it.
        """, """
            def digit_sum(n):
                total = 0
                return total
        """, [fn("4821", "digit_sum", [4821], 15),
              fn("single digit", "digit_sum", [7], 7),
              fn("zero", "digit_sum", [0], 0),
              fn("big", "digit_sum", [999999], 54, hidden=True)],
            ["`while n > 0:` add `n % 10` to the total, then `n = n // 10`.",
             "Another way: `sum(int(d) for d in str(n))`."],
            """
            def digit_sum(n):
                total = 0
                while n > 0:
                    total += n % 10
                    n //= 10
                return total
        """),
    ]),
])

# ---------------------------------------------------------------------------------------------
# Module 5: lists and dictionaries
# ---------------------------------------------------------------------------------------------
m5 = module("lists-and-dicts", "Lists and dictionaries", "Keep many values together: lists for sequences, dictionaries for lookups.", [
    lesson("lists", "Lists", [
        material("lists-intro", "Lists", """
            # Lists

            A **list** holds several values in order:

            ```python
            scores = [72, 95, 88]
            print(scores[0])        # 72 (indexes start at 0, as in strings)
            print(len(scores))      # 3
            scores.append(60)       # add at the end -> [72, 95, 88, 60]
            scores[1] = 99          # lists can be changed -> [72, 99, 88, 60]
            ```

            Useful tools:

            | | result |
            |---|---|
            | `sum(xs)`, `min(xs)`, `max(xs)` | total, smallest, largest |
            | `sorted(xs)` | a new sorted list (`xs.sort()` sorts in place) |
            | `x in xs` | `True` if `x` is in the list |
            | `xs.remove(x)` | removes the first `x` |
            | `xs.index(x)` | position of the first `x` |

            ## From input to a list of numbers

            `split()` cuts a line into words, and a **list comprehension** converts each one:

            ```python
            line = "3 8 1"
            numbers = [int(w) for w in line.split()]   # [3, 8, 1]
            ```

            A comprehension can also filter: `[n for n in numbers if n > 2]` gives `[3, 8]`.
        """),
        exercise("list-stats", "Smallest, largest, total", """
            Read a line of whole numbers separated by spaces. Print the smallest, the largest
            and the sum, each on its own line, labelled like this (for `3 8 1`):

            ```
            min: 1
            max: 8
            sum: 12
            ```
        """, """
            numbers = [int(w) for w in input().split()]
        """, [io("three numbers", "3 8 1\n", "min: 1\nmax: 8\nsum: 12\n"),
              io("one number", "5\n", "min: 5\nmax: 5\nsum: 5\n"),
              io("all equal", "2 2 2\n", "min: 2\nmax: 2\nsum: 6\n"),
              io("negatives", "-4 10 -7 2\n", "min: -7\nmax: 10\nsum: 1\n", hidden=True)],
            ["`min(numbers)`, `max(numbers)` and `sum(numbers)` do the work."],
            """
            numbers = [int(w) for w in input().split()]
            print("min:", min(numbers))
            print("max:", max(numbers))
            print("sum:", sum(numbers))
        """),
        exercise("only-evens", "Keep the even numbers", """
            Complete `only_evens(numbers)`: it returns a **new** list with the even numbers of
            `numbers`, in their original order.

            `only_evens([1, 2, 3, 4, 6])` returns `[2, 4, 6]`.
        """, """
            def only_evens(numbers):
                result = []
                return result
        """, [fn("mixed", "only_evens", [[1, 2, 3, 4, 6]], [2, 4, 6]),
              fn("none even", "only_evens", [[1, 3, 5]], []),
              fn("empty", "only_evens", [[]], [], hidden=False),
              fn("negatives and zero", "only_evens", [[-2, -1, 0, 7]], [-2, 0], hidden=True)],
            ["Loop over the numbers and `append` those with `n % 2 == 0`.",
             "Or in one line: `return [n for n in numbers if n % 2 == 0]`."],
            """
            def only_evens(numbers):
                return [n for n in numbers if n % 2 == 0]
        """),
        exercise("remove-duplicates", "Remove duplicates", """
            Complete `unique(items)`: it returns a list with every value of `items` once, in
            the order in which each value first appears.

            `unique([3, 1, 3, 2, 1])` returns `[3, 1, 2]`.
        """, """
            def unique(items):
                return items
        """, [fn("numbers", "unique", [[3, 1, 3, 2, 1]], [3, 1, 2]),
              fn("words", "unique", [["a", "b", "a"]], ["a", "b"]),
              fn("already unique", "unique", [[1, 2, 3]], [1, 2, 3], hidden=True),
              fn("all the same", "unique", [[7, 7, 7, 7]], [7], hidden=True)],
            ["Build a new list; add a value only when it is `not in` the new list yet."],
            """
            def unique(items):
                result = []
                for x in items:
                    if x not in result:
                        result.append(x)
                return result
        """),
        exercise("second-largest", "Second largest", """
            Complete `second_largest(numbers)`: it returns the second largest **distinct**
            value. For `[4, 9, 2, 9]` that is `4` (the largest, 9, appears twice). The list
            always has at least two different values.
        """, """
            def second_largest(numbers):
                return max(numbers)
        """, [fn("simple", "second_largest", [[1, 5, 3]], 3),
              fn("duplicate largest", "second_largest", [[4, 9, 2, 9]], 4),
              fn("negatives", "second_largest", [[-1, -5, -3]], -3, hidden=True)],
            ["`set(numbers)` removes duplicates; `sorted(...)` puts them in order.",
             "The second largest of a sorted list `s` is `s[-2]`."],
            """
            def second_largest(numbers):
                return sorted(set(numbers))[-2]
        """),
        question("list-after-append", "What is in the list?", "single", """
            What does this print?

            ```python
            xs = [1, 2]
            ys = xs
            ys.append(3)
            print(xs)
            ```
        """, 2, choices=["[1, 2]", "[3]", "[1, 2, 3]", "an error"],
                 explanation="`ys = xs` does not copy the list: both names refer to the same list, so the change is visible through `xs` too. Use `xs.copy()` for a real copy."),
    ]),
    lesson("dictionaries", "Dictionaries", [
        material("dicts-intro", "Dictionaries", """
            # Dictionaries

            A **dictionary** (`dict`) maps **keys** to **values**, like a phone book maps names
            to numbers:

            ```python
            ages = {"Ada": 36, "Alan": 41}
            print(ages["Ada"])        # 36
            ages["Grace"] = 85        # add or change an entry
            print(len(ages))          # 3
            print("Alan" in ages)     # True: `in` checks the keys
            ```

            Looking up a missing key with `[]` raises a `KeyError`. `get` gives a default
            instead: `ages.get("Bob", 0)` is `0`.

            ## Going through a dictionary

            ```python
            for name, age in ages.items():
                print(name, "is", age)
            ```

            `sorted(ages)` gives the keys in alphabetical order.

            ## Counting with a dictionary

            ```python
            counts = {}
            for word in "the cat and the hat".split():
                counts[word] = counts.get(word, 0) + 1
            # {'the': 2, 'cat': 1, 'and': 1, 'hat': 1}
            ```
        """),
        exercise("word-count", "Word count", """
            Read a line of text and print how often each word occurs, one word per line in
            alphabetical order, as `word: count`. Words are separated by spaces; treat
            capital and small letters as the same (print the words in lower case).

            Input `the cat and The hat` gives:

            ```
            and: 1
            cat: 1
            hat: 1
            the: 2
            ```
        """, """
            words = input().lower().split()
            counts = {}
        """, [io("the cat", "the cat and The hat\n", "and: 1\ncat: 1\nhat: 1\nthe: 2\n"),
              io("one word", "hello\n", "hello: 1\n"),
              io("repeats", "b a b a b\n", "a: 2\nb: 3\n", hidden=True),
              io("extra spaces", "a  b   a\n", "a: 2\nb: 1\n", hidden=True)],
            ["`counts[w] = counts.get(w, 0) + 1` counts one word.",
             "`for w in sorted(counts):` visits the words alphabetically."],
            """
            words = input().lower().split()
            counts = {}
            for w in words:
                counts[w] = counts.get(w, 0) + 1
            for w in sorted(counts):
                print(f"{w}: {counts[w]}")
        """),
        exercise("phone-book", "Phone book", """
            The first line of input says how many entries follow. Each entry is a line
            `name number`. After the entries comes one more line: a name to look up. Print that
            person's number, or `not found` if they are not in the book.
        """, """
            book = {}
            n = int(input())
            for i in range(n):
                name, number = input().split()
                # store it
            query = input()
        """, [io("found", "2\nada 555-1234\nalan 555-9876\nalan\n", "555-9876\n"),
              io("not found", "1\nada 555-1234\ngrace\n", "not found\n"),
              io("empty book", "0\nada\n", "not found\n", hidden=True),
              io("three entries", "3\nada 1\nalan 2\ngrace 3\ngrace\n", "3\n", hidden=True)],
            ["`book[name] = number` stores an entry.", "`book.get(query, \"not found\")` does the lookup."],
            """
            book = {}
            n = int(input())
            for i in range(n):
                name, number = input().split()
                book[name] = number
            query = input()
            print(book.get(query, "not found"))
        """),
        exercise("letter-counts", "Letter counts", """
            Complete `letter_counts(word)`: it returns a dictionary that maps every letter of
            `word` to how many times it occurs. `letter_counts("hello")` returns
            `{"h": 1, "e": 1, "l": 2, "o": 1}`.
        """, """
            def letter_counts(word):
                counts = {}
                return counts
        """, [fn("hello", "letter_counts", ["hello"], {"h": 1, "e": 1, "l": 2, "o": 1}),
              fn("banana", "letter_counts", ["banana"], {"b": 1, "a": 3, "n": 2}),
              fn("one letter", "letter_counts", ["zzz"], {"z": 3}, hidden=True)],
            ["Loop over the letters and use `counts.get(ch, 0) + 1`."],
            """
            def letter_counts(word):
                counts = {}
                for ch in word:
                    counts[ch] = counts.get(ch, 0) + 1
                return counts
        """),
        question("dict-get", "A missing key", "single",
                 "`stock = {\"apples\": 4}`. What is `stock.get(\"pears\", 0)`?",
                 1, choices=["None", "0", "4", "a KeyError"],
                 explanation="`get` returns the default (here 0) when the key is missing; only `stock[\"pears\"]` would raise a KeyError."),
    ]),
])

# ---------------------------------------------------------------------------------------------
# Module 6: functions
# ---------------------------------------------------------------------------------------------
m6 = module("functions", "Functions", "Name a piece of work, give it inputs, get a result back: def, parameters, return.", [
    lesson("defining-functions", "Defining functions", [
        material("def-and-return", "def, parameters and return", """
            # Functions

            A **function** is a named piece of code you can run ("call") as often as you like.
            You have used many already: `print`, `len`, `input`. Now you write your own:

            ```python
            def square(x):
                return x * x

            print(square(4))        # 16
            print(square(2) + 1)    # 5
            ```

            - `def` starts the definition; `x` is a **parameter**, a variable that gets its value
              from the call (`square(4)` sets `x` to `4`).
            - `return` ends the function and hands a value back to the caller.
            - A function without `return` gives back `None`.

            ## print versus return

            `print` shows something to a person; `return` gives a value to the program, which
            can then store it, compute with it or print it. Functions that compute something
            should usually **return** their result and leave printing to the caller.

            ## Several parameters and defaults

            ```python
            def greet(name, greeting="Hello"):
                return f"{greeting}, {name}!"

            greet("Ada")                   # 'Hello, Ada!'
            greet("Ada", "Good morning")   # 'Good morning, Ada!'
            greet("Ada", greeting="Hi")    # 'Hi, Ada!'  (a keyword argument)
            ```

            Variables created inside a function are **local**: they exist only while it runs.
        """),
        exercise("circle-area", "Area of a circle", """
            Complete `circle_area(radius)` so that it returns the area of a circle, `π × r²`.
            Use `math.pi` (the starter code already imports `math`).
        """, """
            import math

            def circle_area(radius):
                pass
        """, [fn("radius 1", "circle_area", [1], 3.141592653589793, tolerance=1e-6),
              fn("radius 2.5", "circle_area", [2.5], 19.634954084936208, tolerance=1e-6),
              fn("radius 0", "circle_area", [0], 0, tolerance=1e-9, hidden=True)],
            ["`radius ** 2` is the radius squared.", "`return math.pi * radius ** 2`"],
            """
            import math

            def circle_area(radius):
                return math.pi * radius ** 2
        """),
        exercise("greet-function", "A greeting with a default", """
            Complete `greet(name, greeting="Hello")`: it **returns** (not prints) the string
            `"<greeting>, <name>!"`. When no greeting is given, use `Hello`.

            `greet("Ada")` returns `"Hello, Ada!"`, and `greet("Ada", greeting="Hi")` returns
            `"Hi, Ada!"`.
        """, """
            def greet(name, greeting="Hello"):
                print(greeting, name)
        """, [fn("default greeting", "greet", ["Ada"], "Hello, Ada!"),
              fn("keyword greeting", "greet", ["Ada"], "Hi, Ada!", kwargs={"greeting": "Hi"}),
              fn("positional greeting", "greet", ["Alan", "Good morning"], "Good morning, Alan!", hidden=True)],
            ["Use `return`, not `print`: the test looks at the value the function gives back.",
             "`return f\"{greeting}, {name}!\"`"],
            """
            def greet(name, greeting="Hello"):
                return f"{greeting}, {name}!"
        """),
        exercise("clamp", "Clamp a value", """
            Complete `clamp(value, low, high)`: it returns `value` when it lies between `low`
            and `high`, `low` when it is smaller, and `high` when it is larger.

            `clamp(15, 0, 10)` returns `10`; `clamp(-3, 0, 10)` returns `0`; `clamp(7, 0, 10)`
            returns `7`.
        """, """
            def clamp(value, low, high):
                return value
        """, [fn("too high", "clamp", [15, 0, 10], 10),
              fn("too low", "clamp", [-3, 0, 10], 0),
              fn("inside", "clamp", [7, 0, 10], 7),
              fn("on the edge", "clamp", [10, 0, 10], 10, hidden=True)],
            ["Two `if`s: one for below `low`, one for above `high`.", "Or: `max(low, min(value, high))`."],
            """
            def clamp(value, low, high):
                if value < low:
                    return low
                if value > high:
                    return high
                return value
        """),
        question("no-return", "A function without return", "single", """
            What does this program print?

            ```python
            def add(a, b):
                total = a + b

            print(add(2, 3))
            ```
        """, 2, choices=["5", "total", "None", "an error"],
                 explanation="`add` computes `total` but never returns it, so the call gives back `None`."),
    ]),
    lesson("functions-in-practice", "Functions in practice", [
        material("small-functions", "Building programs from small functions", """
            # Small functions, big programs

            Good programs are made of small functions that each do one thing and can be tested
            on their own:

            ```python
            def is_vowel(ch):
                return ch.lower() in "aeiou"

            def count_vowels(text):
                return sum(1 for ch in text if is_vowel(ch))
            ```

            Functions can call other functions, and the result of one call can be the input of
            the next. A **docstring** — a string right below `def` — says what a function does:

            ```python
            def average(numbers):
                \"\"\"The mean of a non-empty list of numbers.\"\"\"
                return sum(numbers) / len(numbers)
            ```

            When you write a function, think first about its **inputs** (parameters), its
            **output** (what it returns) and a few example calls with their expected results —
            exactly what the tests in these exercises do.
        """),
        exercise("is-prime", "Prime numbers", """
            A prime number is a whole number greater than 1 whose only divisors are 1 and
            itself (2, 3, 5, 7, 11, …). Complete `is_prime(n)`.
        """, """
            def is_prime(n):
                return n > 1
        """, [fn("seven", "is_prime", [7], True),
              fn("nine", "is_prime", [9], False),
              fn("one", "is_prime", [1], False),
              fn("two", "is_prime", [2], True, hidden=True),
              fn("97", "is_prime", [97], True, hidden=True)],
            ["Numbers below 2 are not prime.",
             "Try every divisor `d` from 2 up to `n - 1` (or, faster, while `d * d <= n`); if `n % d == 0`, it is not prime."],
            """
            def is_prime(n):
                if n < 2:
                    return False
                d = 2
                while d * d <= n:
                    if n % d == 0:
                        return False
                    d += 1
                return True
        """),
        exercise("apply-discount", "Discounted price", """
            Complete `discounted(price, percent)`: it returns the price after a discount of
            `percent` per cent, rounded to 2 decimals with `round(x, 2)`.

            `discounted(80, 25)` returns `60.0`; `discounted(19.99, 10)` returns `17.99`.
        """, """
            def discounted(price, percent):
                return price
        """, [fn("quarter off", "discounted", [80, 25], 60.0),
              fn("ten per cent", "discounted", [19.99, 10], 17.99, tolerance=1e-9),
              fn("no discount", "discounted", [5, 0], 5.0, hidden=True)],
            ["The discount is `price * percent / 100`; subtract it from the price.",
             "`return round(price - price * percent / 100, 2)`"],
            """
            def discounted(price, percent):
                return round(price - price * percent / 100, 2)
        """),
        exercise("longest-word", "The longest word", """
            Complete `longest_word(sentence)`: it returns the longest word of the sentence
            (words are separated by spaces). If several words are equally long, return the
            first of them.
        """, """
            def longest_word(sentence):
                words = sentence.split()
                return words[0]
        """, [fn("simple", "longest_word", ["I love programming"], "programming"),
              fn("tie goes to the first", "longest_word", ["cat dog emu"], "cat"),
              fn("longest in the middle", "longest_word", ["a wonderful day"], "wonderful", hidden=True)],
            ["Keep the best word so far and replace it only when a word is strictly longer.",
             "Or: `max(words, key=len)` — `max` returns the first of equally long words."],
            """
            def longest_word(sentence):
                best = ""
                for w in sentence.split():
                    if len(w) > len(best):
                        best = w
                return best
        """),
        question("default-args", "Default arguments", "short",
                 "Given `def power(x, n=2): return x ** n`, what is `power(3)`? (Type the number.)",
                 ["9"], explanation="`n` takes its default value 2, so the result is 3 ** 2 = 9."),
    ]),
])

# ---------------------------------------------------------------------------------------------
# Module 7: final project
# ---------------------------------------------------------------------------------------------
m7 = module("final-project", "Final project: a grade book", "Put it all together: a small grade book with functions, a dictionary and your first class.", [
    lesson("project-functions", "Part 1: the grade book's functions", [
        material("project-overview", "The project", """
            # Project: a grade book

            In this module you build a small grade book for a teacher, piece by piece. Each
            exercise is one part; together they use everything from this course: input,
            strings, conditions, loops, lists, dictionaries and functions.

            The data: a dictionary that maps each student to a list of scores (0–100):

            ```python
            grades = {
                "ada":  [90, 85, 100],
                "alan": [70, 65],
                "grace": [],
            }
            ```

            Plan before you type: for each part, write down what goes in, what comes out, and
            one example. Then write the function, and test it with your example.
        """),
        exercise("project-average", "Part 1: an average that handles empty lists", """
            Complete `average(scores)`: it returns the mean of a list of scores, rounded to one
            decimal with `round(x, 1)`. A student without scores has the average `0.0` (don't
            divide by zero!).
        """, """
            def average(scores):
                return sum(scores) / len(scores)
        """, [fn("three scores", "average", [[90, 85, 100]], 91.7),
              fn("two scores", "average", [[70, 65]], 67.5),
              fn("no scores", "average", [[]], 0.0),
              fn("one score", "average", [[88]], 88.0, hidden=True)],
            ["`if not scores: return 0.0` handles the empty list first.",
             "`round(sum(scores) / len(scores), 1)`"],
            """
            def average(scores):
                if not scores:
                    return 0.0
                return round(sum(scores) / len(scores), 1)
        """),
        exercise("project-best-student", "Part 2: the best student", """
            Complete `best_student(grades)`: given the grade-book dictionary, it returns the
            name of the student with the highest average (use `average` from part 1, copied
            in below). On a tie, return the name that comes first alphabetically.
        """, """
            def average(scores):
                if not scores:
                    return 0.0
                return round(sum(scores) / len(scores), 1)

            def best_student(grades):
                return ""
        """, [fn("ada wins", "best_student", [{"ada": [90, 85, 100], "alan": [70, 65], "grace": []}], "ada"),
              fn("tie", "best_student", [{"zoe": [80], "bob": [80], "eve": [60]}], "bob"),
              fn("one student", "best_student", [{"max": [50]}], "max", hidden=True)],
            ["Go through `sorted(grades)` so that ties are decided alphabetically.",
             "Keep the best name and its average; replace them only when an average is strictly higher."],
            """
            def average(scores):
                if not scores:
                    return 0.0
                return round(sum(scores) / len(scores), 1)

            def best_student(grades):
                best, best_avg = None, None
                for name in sorted(grades):
                    avg = average(grades[name])
                    if best_avg is None or avg > best_avg:
                        best, best_avg = name, avg
                return best
        """),
        exercise("project-report", "Part 3: the report", """
            Now a complete program. The input is one student per line, `name score score …`
            (a student may have no scores), and ends with the line `end`. Print a report, one
            line per student in alphabetical order, with the average to one decimal and the
            letter grade from module 3 (A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F):

            ```
            ada: 91.7 A
            alan: 67.5 D
            ```

            A student without scores has the average 0.0 and the grade F.
        """, """
            grades = {}
            while True:
                line = input()
                if line == "end":
                    break
                parts = line.split()
                # parts[0] is the name, the rest are scores

            for name in sorted(grades):
                pass  # print the report line
        """, [io("two students", "alan 70 65\nada 90 85 100\nend\n", "ada: 91.7 A\nalan: 67.5 D\n"),
              io("no scores", "grace\nend\n", "grace: 0.0 F\n"),
              io("one decimal", "bob 80 81 81\nend\n", r"bob: 80\.7 B", match="regex"),
              io("a class of three", "zoe 59\nmia 75 85\nli 100\nend\n", "li: 100.0 A\nmia: 80.0 B\nzoe: 59.0 F\n", hidden=True)],
            ["`grades[parts[0]] = [int(s) for s in parts[1:]]` stores one student.",
             "Write small functions `average(scores)` and `letter(avg)` and use them in the loop.",
             "`f\"{avg:.1f}\"` prints one decimal, also for `0.0` and `100.0`."],
            """
            def average(scores):
                if not scores:
                    return 0.0
                return round(sum(scores) / len(scores), 1)

            def letter(avg):
                if avg >= 90:
                    return "A"
                if avg >= 80:
                    return "B"
                if avg >= 70:
                    return "C"
                if avg >= 60:
                    return "D"
                return "F"

            grades = {}
            while True:
                line = input()
                if line == "end":
                    break
                parts = line.split()
                grades[parts[0]] = [int(s) for s in parts[1:]]

            for name in sorted(grades):
                avg = average(grades[name])
                print(f"{name}: {avg:.1f} {letter(avg)}")
        """),
    ]),
    lesson("project-classes", "Part 2: your first class", [
        material("classes-intro", "Classes: bundling data with the functions that use it", """
            # Classes

            So far data (a dictionary) and the functions that work on it lived apart. A
            **class** bundles them: it describes a kind of object, with **attributes** (its
            data) and **methods** (its functions).

            ```python
            class Counter:
                def __init__(self, start=0):
                    self.value = start          # an attribute

                def increment(self):           # a method
                    self.value += 1
                    return self.value

            c = Counter()          # make an object (an "instance"); __init__ runs
            c.increment()          # 1
            c.increment()          # 2
            print(c.value)         # 2
            ```

            - `__init__` sets up a new object; it runs when you write `Counter()`.
            - Every method's first parameter is `self`, the object itself. Python passes it for
              you: `c.increment()` calls `increment(c)`.
            - Attributes are reached with `self.name` inside the class and `c.name` outside.

            Each object keeps its own data: two `Counter()`s count independently.
        """),
        exercise("student-class", "A Student class", """
            Write the class `Student`:

            - `Student(name)` creates a student with that name and no scores yet;
            - `add_score(score)` adds a score and returns how many scores the student now has;
            - `average()` returns the mean of the scores rounded to one decimal (`0.0` when
              there are none);
            - `grade()` returns the letter grade of the average (A ≥ 90, B ≥ 80, C ≥ 70,
              D ≥ 60, else F).
        """, """
            class Student:
                def __init__(self, name):
                    self.name = name
                    self.scores = []

                def add_score(self, score):
                    pass

                def average(self):
                    pass

                def grade(self):
                    pass
        """, [{"name": "a good student", "kind": "class", "class": "Student", "init_args": ["ada"],
               "calls": [{"method": "add_score", "args": [90], "expected_return": 1},
                         {"method": "add_score", "args": [85], "expected_return": 2},
                         {"method": "add_score", "args": [100], "expected_return": 3},
                         {"method": "average", "expected_return": 91.7},
                         {"method": "grade", "expected_return": "A"}]},
              {"name": "no scores yet", "kind": "class", "class": "Student", "init_args": ["grace"],
               "calls": [{"method": "average", "expected_return": 0.0},
                         {"method": "grade", "expected_return": "F"}]},
              {"name": "a C student", "kind": "class", "class": "Student", "init_args": ["alan"], "hidden": True,
               "calls": [{"method": "add_score", "args": [70], "expected_return": 1},
                         {"method": "add_score", "args": [79], "expected_return": 2},
                         {"method": "grade", "expected_return": "C"}]}],
            ["`self.scores.append(score)` then `return len(self.scores)`.",
             "Inside `grade`, call `self.average()` to get the average."],
            """
            class Student:
                def __init__(self, name):
                    self.name = name
                    self.scores = []

                def add_score(self, score):
                    self.scores.append(score)
                    return len(self.scores)

                def average(self):
                    if not self.scores:
                        return 0.0
                    return round(sum(self.scores) / len(self.scores), 1)

                def grade(self):
                    avg = self.average()
                    if avg >= 90:
                        return "A"
                    if avg >= 80:
                        return "B"
                    if avg >= 70:
                        return "C"
                    if avg >= 60:
                        return "D"
                    return "F"
        """),
        exercise("gradebook-class", "A GradeBook class", """
            Finish the project with a `GradeBook` class that keeps many students:

            - `GradeBook()` starts empty;
            - `add(name, score)` records a score for a student (creating the student on first
              use) and returns the number of students in the book;
            - `average(name)` returns that student's average rounded to one decimal, or `None`
              if there is no such student;
            - `top()` returns the name with the highest average (alphabetically first on a
              tie), or `None` when the book is empty.
        """, """
            class GradeBook:
                def __init__(self):
                    self.scores = {}   # name -> list of scores

                def add(self, name, score):
                    pass

                def average(self, name):
                    pass

                def top(self):
                    pass
        """, [{"name": "two students", "kind": "class", "class": "GradeBook",
               "calls": [{"method": "add", "args": ["ada", 90], "expected_return": 1},
                         {"method": "add", "args": ["alan", 70], "expected_return": 2},
                         {"method": "add", "args": ["ada", 95], "expected_return": 2},
                         {"method": "average", "args": ["ada"], "expected_return": 92.5},
                         {"method": "top", "expected_return": "ada"}]},
              {"name": "empty book", "kind": "class", "class": "GradeBook",
               "calls": [{"method": "top", "expected_return": None},
                         {"method": "average", "args": ["nobody"], "expected_return": None},
                         {"method": "add", "args": ["zoe", 50], "expected_return": 1}]},
              {"name": "tie", "kind": "class", "class": "GradeBook", "hidden": True,
               "calls": [{"method": "add", "args": ["zoe", 80], "expected_return": 1},
                         {"method": "add", "args": ["bob", 80], "expected_return": 2},
                         {"method": "top", "expected_return": "bob"}]}],
            ["`self.scores.setdefault(name, []).append(score)` creates the list on first use.",
             "`top` can go through `sorted(self.scores)` and keep the best average seen so far."],
            """
            class GradeBook:
                def __init__(self):
                    self.scores = {}   # name -> list of scores

                def add(self, name, score):
                    self.scores.setdefault(name, []).append(score)
                    return len(self.scores)

                def average(self, name):
                    if name not in self.scores:
                        return None
                    s = self.scores[name]
                    return round(sum(s) / len(s), 1)

                def top(self):
                    best, best_avg = None, None
                    for name in sorted(self.scores):
                        avg = self.average(name)
                        if best_avg is None or avg > best_avg:
                            best, best_avg = name, avg
                    return best
        """),
        question("self-meaning", "What is self?", "single",
                 "In a method like `def add_score(self, score):`, what is `self`?",
                 1, choices=["the class itself", "the object the method was called on",
                             "a keyword that must be typed when calling the method", "the method's return value"],
                 explanation="`s.add_score(90)` runs `add_score` with `self` set to `s`; Python passes it automatically."),
    ]),
])

COURSE = {
    "org_slug": None,
    "slug": "python-intro",
    "title": "Introduction to Python",
    "description": dedent("""
        A first programming course for complete beginners. You learn Python step by step —
        printing and variables, strings, decisions, loops, lists and dictionaries, functions —
        and finish by building a small grade book with your first class.

        Every lesson explains one idea with examples, then lets you practise it in exercises
        that are checked automatically. Stuck? Each exercise has hints.
    """),
    "language": "en",
    "visibility": "public",
    "status": "published",
    "modules": [m1, m2, m3, m4, m5, m6, m7],
}

if __name__ == "__main__":
    print(write_seed("python-intro.json", COURSE,
                     "Introduction to Python: generated by seed/tools/python_intro.py -- edit that, then run it"))
