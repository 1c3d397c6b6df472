"""A1 grammar topics of the German A1-B1 course (see german_a1_b1.py): explanation + exercises."""

from german_lib import grammar, multiple, short, single

PRONOUNS = grammar("personal-pronouns", "Personal pronouns: ich, du, Sie …", "A1", """
    # Personal pronouns

    | German | English | |
    |---|---|---|
    | ich | I | |
    | du | you | one person you know well (friend, family, child) |
    | er / sie / es | he / she / it | |
    | wir | we | |
    | ihr | you (all) | several people you say *du* to |
    | sie | they | |
    | Sie | you | **polite**, one or more people (always capital S) |

    - *ich* is written with a small letter (unlike English *I*), except at the start of a sentence.
    - Use **Sie** with adults you don't know, at work, in shops and offices. Use **du** with
      friends, family, children and, usually, other young people.
    - *er / sie / es* follow the **grammatical gender** of the noun: *der Tisch → er*,
      *die Lampe → sie*, *das Buch → es*. So a table can be "he"!
    """, [
    single("Which pronoun do you use to speak to a shop assistant you do not know?",
           ["du", "ihr", "Sie", "sie"], "Sie", "Strangers and people in a professional situation get the polite *Sie* (capital S)."),
    single("*Der Computer* ist neu. ___ ist schnell.", ["Er", "Sie", "Es"], "Er",
           "*Computer* is masculine (*der*), so it is replaced by *er*."),
    single("*Das Auto* ist alt. ___ ist rot.", ["Er", "Sie", "Es"], "Es", "*das Auto* is neuter → *es*."),
    short("Translate the pronoun: *we* → ___", ["wir"], "*we* = *wir*."),
    single("You are talking to two friends. \"Where are you (all) from?\" — Woher kommt ___?",
           ["du", "ihr", "Sie", "wir"], "ihr", "Several people you say *du* to are *ihr*."),
])

PRESENT_REGULAR = grammar("present-tense-regular", "Present tense of regular verbs", "A1", """
    # Present tense: regular verbs

    German verbs have an infinitive ending in **-en** (*wohnen*, *spielen*, *lernen*). Take away
    *-en* to get the **stem** (*wohn-*) and add the ending for the person:

    | | ending | wohnen (to live) |
    |---|---|---|
    | ich | -e | ich wohn**e** |
    | du | -st | du wohn**st** |
    | er/sie/es | -t | er wohn**t** |
    | wir | -en | wir wohn**en** |
    | ihr | -t | ihr wohn**t** |
    | sie/Sie | -en | sie wohn**en** |

    **Extra -e-:** if the stem ends in *-t* or *-d* (*arbeiten*, *finden*), add an *e* before
    *-st* and *-t* so you can pronounce it: *du arbeit**e**st, er arbeit**e**t, ihr find**e**t*.

    **s-sounds:** if the stem ends in *-s, -ß, -z* (*heißen*, *tanzen*), the *du*-form only adds
    *-t*: *du heißt, du tanzt*.

    German has **one** present tense: *ich lerne* means "I learn", "I am learning" and often
    "I will learn" (*Morgen lerne ich.*).
    """, [
    short("Ich ___ in Berlin. (wohnen)", ["wohne"], "ich → -e: *ich wohne*."),
    short("Du ___ Deutsch. (lernen)", ["lernst"], "du → -st: *du lernst*."),
    short("Er ___ bei Siemens. (arbeiten)", ["arbeitet"], "Stem *arbeit-* ends in -t, so add -e-: *er arbeitet*."),
    short("Wie ___ du? (heißen)", ["heißt", "heisst"], "Stem *heiß-* ends in ß: *du heißt* (only -t)."),
    single("Wir ___ Fußball.", ["spiele", "spielst", "spielt", "spielen"], "spielen", "wir → -en: *wir spielen*."),
    single("Ihr ___ gut. (kochen)", ["kocht", "kochen", "kochst", "koche"], "kocht", "ihr → -t: *ihr kocht*."),
])

SEIN_HABEN = grammar("sein-and-haben", "sein (to be) and haben (to have)", "A1", """
    # sein and haben

    The two most important verbs are irregular. Learn them by heart:

    | | sein (to be) | haben (to have) |
    |---|---|---|
    | ich | bin | habe |
    | du | bist | hast |
    | er/sie/es | ist | hat |
    | wir | sind | haben |
    | ihr | seid | habt |
    | sie/Sie | sind | haben |

    - *Ich bin Lehrerin.* — no article before jobs: "I am **a** teacher" is *Ich bin Lehrerin.*
    - *Ich bin 25 (Jahre alt).* — age uses **sein**, not *haben*.
    - *Ich habe Hunger / Durst / Zeit.* — "I am hungry / thirsty", "I have time".
    - Don't mix up *seid* (ihr form of *sein*) and *seit* (since).
    """, [
    short("Ich ___ Anna. (sein)", ["bin"], "*ich bin*."),
    short("Wir ___ aus Kanada. (sein)", ["sind"], "*wir sind*."),
    short("___ du Zeit? (haben)", ["Hast"], "*du hast*; in a yes/no question the verb comes first: *Hast du Zeit?*"),
    single("Ihr ___ sehr nett.", ["seit", "seid", "sind", "ist"], "seid", "*ihr seid* (with d). *seit* means *since*."),
    single("How do you say \"I am 30 years old\"?",
           ["Ich habe 30 Jahre.", "Ich bin 30 Jahre alt.", "Ich habe 30 Jahre alt.", "Ich bin 30 Jahre haben."],
           "Ich bin 30 Jahre alt.", "Age is expressed with *sein*: *Ich bin 30 (Jahre alt).*"),
    single("Er ___ einen Bruder.", ["hat", "habt", "hast", "ist"], "hat", "*er hat*."),
])

GENDER = grammar("gender-and-articles", "Noun gender: der, die, das and ein, eine", "A1", """
    # Gender and articles

    Every German noun has a gender: **masculine**, **feminine** or **neuter**. The article shows it:

    | | definite (the) | indefinite (a) | negative (no / not a) |
    |---|---|---|---|
    | masculine | **der** Tisch | **ein** Tisch | **kein** Tisch |
    | feminine | **die** Lampe | **eine** Lampe | **keine** Lampe |
    | neuter | **das** Buch | **ein** Buch | **kein** Buch |
    | plural | **die** Bücher | – Bücher | **keine** Bücher |

    Nouns are always written with a **capital letter**. Always learn a noun **with its article**:
    not *Tisch*, but *der Tisch*.

    Some endings help:
    - feminine: *-ung, -heit, -keit, -schaft, -ion, -tät, -ei* (*die Wohnung, die Freiheit, die Station*), most nouns in *-e* (*die Tasche*);
    - neuter: *-chen, -lein* (*das Mädchen*), *-um* (*das Museum*), most nouns in *-ment* (*das Dokument*);
    - masculine: *-er* for people doing something (*der Lehrer*), *-ismus*, days, months and seasons (*der Montag, der Mai, der Sommer*).

    In compound nouns the **last** part decides the gender: *das Haus + die Tür → die Haustür*.
    """, [
    single("___ Wohnung ist groß.", ["Der", "Die", "Das"], "Die", "Nouns in *-ung* are feminine: *die Wohnung*."),
    single("___ Mädchen spielt.", ["Der", "Die", "Das"], "Das", "Nouns in *-chen* are neuter, even *das Mädchen* (the girl)."),
    single("Das ist ___ Tisch.", ["ein", "eine"], "ein", "*der Tisch* → *ein Tisch*."),
    single("Which article has *Kinderzimmer* (das Kind + das Zimmer)?", ["der", "die", "das"], "das",
           "The last part decides: *das Zimmer* → *das Kinderzimmer*."),
    multiple("Which nouns are masculine? (Choose all that apply.)",
             ["Montag", "Zeitung", "Lehrer", "Sommer", "Museum"], ["Montag", "Lehrer", "Sommer"],
             "Days (*der Montag*), seasons (*der Sommer*) and *-er* people (*der Lehrer*) are masculine; *die Zeitung*, *das Museum*."),
    short("Fill in the indefinite article: Das ist ___ Lampe.", ["eine"], "*die Lampe* → *eine Lampe*."),
])

PLURAL = grammar("plural-of-nouns", "Plural of nouns", "A1", """
    # Plural of nouns

    The plural article is always **die**, but the plural ending must be learnt with each noun.
    The main patterns:

    | pattern | singular | plural | typical for |
    |---|---|---|---|
    | -e (often with umlaut) | der Tisch, der Stuhl | die Tisch**e**, die St**ü**hl**e** | many masculine nouns |
    | -(e)n | die Lampe, die Frau | die Lampe**n**, die Frau**en** | almost all feminine nouns |
    | -er (umlaut if possible) | das Kind, das Buch | die Kind**er**, die B**ü**ch**er** | many short neuter nouns |
    | – (sometimes umlaut) | der Lehrer, die Mutter | die Lehrer, die M**ü**tter | nouns in -er, -el, -en |
    | -s | das Auto, das Handy | die Auto**s**, die Handy**s** | words from English/French, nouns in -a, -i, -o |

    Feminine nouns in *-in* double the n: *die Lehrerin → die Lehrerinnen*.

    Dictionaries write the plural like this: *der Tisch, -e*; *das Buch, ¨-er*; *der Lehrer, -*.
    """, [
    short("Plural: das Kind → die ___", ["Kinder"], "*das Kind, -er* → *die Kinder*."),
    short("Plural: die Lampe → die ___", ["Lampen"], "Feminine nouns in -e add -n: *die Lampen*."),
    single("Plural of *das Auto*:", ["die Autos", "die Autoen", "die Äuto", "die Autore"], "die Autos",
           "Nouns in -o take -s: *die Autos*."),
    single("Plural of *der Stuhl*:", ["die Stuhle", "die Stühle", "die Stuhlen", "die Stühler"], "die Stühle",
           "*der Stuhl, ¨-e* → *die Stühle*."),
    short("Plural: die Freundin → die ___", ["Freundinnen"], "Nouns in *-in* add *-nen*: *die Freundinnen*."),
    multiple("Which plurals are correct? (Choose all that apply.)",
             ["die Tische", "die Autos", "die Kindern", "die Lampen", "die Buchs"], ["die Tische", "die Autos", "die Lampen"],
             "*die Kinder* (no -n in the nominative) and *die Bücher* are the correct plurals of *das Kind* and *das Buch*."),
])

W_QUESTIONS = grammar("w-questions", "W-questions: wer, was, wo, woher …", "A1", """
    # W-questions

    Questions with a question word ("W-Fragen") put the **question word first** and the **verb
    second**, then the subject:

    *Wo **wohnst** du?* — *Was **machen** Sie?*

    | | | |
    |---|---|---|
    | wer? | who? | *Wer ist das?* |
    | was? | what? | *Was trinkst du?* |
    | wo? | where? (place) | *Wo wohnst du?* |
    | woher? | where from? | *Woher kommen Sie?* |
    | wohin? | where to? | *Wohin fährst du?* |
    | wie? | how? | *Wie heißt du?* |
    | wann? | when? | *Wann beginnt der Kurs?* |
    | warum? | why? | *Warum lernst du Deutsch?* |
    | wie viel? / wie viele? | how much / how many? | *Wie viel kostet das? Wie viele Kinder hast du?* |
    | welcher/welche/welches? | which? | *Welche Farbe magst du?* |

    Careful: *wer* means **who**, *wo* means **where**.
    """, [
    single("___ kommst du? — Aus Irland.", ["Wo", "Woher", "Wohin", "Wer"], "Woher", "*Aus Irland* answers \"where from?\" → *woher*."),
    single("___ ist das? — Das ist mein Bruder.", ["Was", "Wo", "Wer", "Wie"], "Wer", "A person → *wer* (who)."),
    single("___ wohnst du? — In Hamburg.", ["Wo", "Wer", "Woher", "Wann"], "Wo", "A place → *wo*."),
    short("___ heißen Sie? — Ich heiße Müller. (how)", ["Wie"], "*Wie heißen Sie?* — literally \"How are you called?\""),
    single("Which word order is correct?", ["Was du trinkst?", "Was trinkst du?", "Trinkst was du?", "Du trinkst was?"],
           "Was trinkst du?", "Question word first, verb second: *Was trinkst du?*"),
])

YES_NO = grammar("yes-no-questions", "Yes/no questions and answers (ja, nein, doch)", "A1", """
    # Yes/no questions

    A question that can be answered with *ja* or *nein* starts with the **verb**:

    - *Du wohnst in Wien.* → ***Wohnst** du in Wien?*
    - *Sie sprechen Englisch.* → ***Sprechen** Sie Englisch?*

    German has no "do" in questions: "Do you speak English?" is simply *Sprechen Sie Englisch?*

    Answers:
    - *Ja, ich wohne in Wien.* / *Nein, ich wohne in Graz.*
    - **doch** contradicts a **negative** question: *Kommst du **nicht**?* — ***Doch**, ich komme!*
      ("Yes, I am coming!"). After a negative question *ja* would sound wrong.
    """, [
    single("Make a question: *Du hast Zeit.*", ["Du hast Zeit?", "Hast du Zeit?", "Hast Zeit du?", "Zeit hast du?"],
           "Hast du Zeit?", "Verb first: *Hast du Zeit?*"),
    single("*Bist du nicht müde?* — \"Yes, I am!\"", ["Ja, ich bin müde.", "Doch, ich bin müde.", "Nein, ich bin müde."],
           "Doch, ich bin müde.", "*doch* answers *yes* to a negative question."),
    short("Translate with Sie: \"Do you speak German?\" → ___ Sie Deutsch?", ["Sprechen"],
          "No *do* in German: *Sprechen Sie Deutsch?*"),
    single("*Kommt er aus Spanien?* — Nein, ___", ["er kommt aus Italien.", "kommt er aus Italien.", "aus Italien er kommt."],
           "er kommt aus Italien.", "After *nein,* the statement has normal order: *Nein, er kommt aus Italien.*"),
])

VERB_SECOND = grammar("verb-second-word-order", "Word order: the verb in position 2", "A1", """
    # The verb comes second

    In a German statement the conjugated verb is always the **second element**. The first
    position can be the subject, but also a time, a place or an object. If something else comes
    first, the subject moves **after** the verb:

    | position 1 | position 2 (verb) | rest |
    |---|---|---|
    | Ich | **fahre** | morgen nach Berlin. |
    | Morgen | **fahre** | ich nach Berlin. |
    | Nach Berlin | **fahre** | ich morgen. |

    English says "Tomorrow I go", German says *Morgen fahre **ich***. A common mistake:
    ~~*Morgen ich fahre*~~.

    An "element" can be several words: *Am Montag um acht Uhr* is one element.

    *ja, nein, und, aber, oder, denn* at the start do not count: *Ja, ich komme.*
    """, [
    single("Which sentence is correct?", ["Heute ich arbeite.", "Heute arbeite ich.", "Heute arbeite.", "Arbeite heute ich."],
           "Heute arbeite ich.", "Time first, verb second, subject after the verb."),
    single("Am Wochenende ___ wir Freunde.", ["besuchen", "wir besuchen"], "besuchen",
           "*Am Wochenende besuchen wir Freunde.* — the subject *wir* is already after the gap."),
    short("Put the verb in: Im Sommer ___ ich oft. (schwimmen)", ["schwimme"], "*Im Sommer schwimme ich oft.*"),
    single("Which sentence is **wrong**?", ["Um acht Uhr beginnt der Kurs.", "Der Kurs beginnt um acht Uhr.", "Um acht Uhr der Kurs beginnt."],
           "Um acht Uhr der Kurs beginnt.", "The verb must be second: *Um acht Uhr beginnt der Kurs.*"),
])

NEGATION = grammar("negation-nicht-kein", "Negation: nicht and kein", "A1", """
    # nicht or kein?

    **kein** negates a noun with *ein* or with no article. It takes the endings of *ein*:

    - *Das ist **ein** Hund.* → *Das ist **kein** Hund.*
    - *Ich habe **eine** Katze.* → *Ich habe **keine** Katze.*
    - *Ich habe Zeit.* → *Ich habe **keine** Zeit.*
    - *Wir haben Kinder.* → *Wir haben **keine** Kinder.*

    **nicht** negates everything else: verbs, adjectives, adverbs, nouns with *der/die/das* or a
    possessive, names:

    - *Ich komme **nicht**.* — *Das ist **nicht** teuer.* — *Das ist **nicht** mein Auto.*

    Position of *nicht*: at the end of a simple sentence (*Ich kenne ihn nicht.*), but **before**
    adjectives, places, prepositional phrases and the second part of the verb: *Er ist nicht
    müde. Sie wohnt nicht in Köln. Ich kann nicht schwimmen.*
    """, [
    single("Ich habe ___ Auto.", ["nicht", "kein", "keine", "nicht ein"], "kein", "*ein Auto* → *kein Auto*."),
    single("Das Hotel ist ___ teuer.", ["kein", "keine", "nicht"], "nicht", "An adjective is negated with *nicht*."),
    short("Negate the noun: Ich trinke ___ Milch. (no milk)", ["keine"], "*Milch* without article → *keine Milch* (feminine)."),
    single("Er kommt heute ___.", ["kein", "keinen", "nicht"], "nicht", "A verb (*kommen*) is negated with *nicht*, at the end of the sentence."),
    single("Where does *nicht* go? \"I can't swim.\"", ["Ich nicht kann schwimmen.", "Ich kann schwimmen nicht.", "Ich kann nicht schwimmen."],
           "Ich kann nicht schwimmen.", "*nicht* comes before the infinitive at the end."),
])

ACCUSATIVE = grammar("accusative-case", "The accusative case (direct object)", "A1", """
    # The accusative

    The **subject** (who does something) is in the **nominative**. The **direct object** (what or
    whom the action is done to) is in the **accusative**. Only the **masculine** articles change:

    | | nominative | accusative |
    |---|---|---|
    | masculine | **der / ein / kein** Kaffee | **den / einen / keinen** Kaffee |
    | feminine | die / eine / keine Suppe | die / eine / keine Suppe |
    | neuter | das / ein / kein Brot | das / ein / kein Brot |
    | plural | die / – / keine Äpfel | die / – / keine Äpfel |

    - *Ich trinke **einen** Kaffee.* — *Er kauft **den** Tisch.*
    - Verbs that usually take an accusative object: *haben, brauchen, kaufen, möchten, essen,
      trinken, sehen, suchen, finden, nehmen, kennen* …
    - **es gibt** ("there is / there are") always takes the accusative: *Es gibt **einen** Park.*

    Because the article shows the case, word order is freer: *Den Kaffee trinke ich.* still means
    "I drink the coffee".
    """, [
    single("Ich brauche ___ Stift.", ["ein", "einen", "eine"], "einen", "*der Stift*, direct object → *einen Stift*."),
    single("Wir kaufen ___ Lampe.", ["der", "den", "die"], "die", "Feminine does not change: *die Lampe*."),
    short("Ich habe ___ Bruder. (ein)", ["einen"], "*der Bruder* → accusative *einen Bruder*."),
    single("In der Stadt gibt es ___ Bahnhof.", ["ein", "einen", "der"], "einen", "*es gibt* + accusative: *einen Bahnhof*."),
    single("*Den Film kennt sie.* Who knows whom?", ["The film knows her.", "She knows the film."],
           "She knows the film.", "*den Film* is accusative, so it is the object, even in first position."),
])

POSSESSIVES = grammar("possessive-articles", "Possessive articles: mein, dein, sein, ihr …", "A1", """
    # Possessive articles

    | person | possessive | |
    |---|---|---|
    | ich | mein | my |
    | du | dein | your |
    | er / es | sein | his / its |
    | sie | ihr | her |
    | wir | unser | our |
    | ihr | euer | your (plural) |
    | sie | ihr | their |
    | Sie | Ihr | your (polite) |

    They take the same endings as *ein / kein*:

    | | nominative | accusative |
    |---|---|---|
    | masculine | mein Vater | mein**en** Vater |
    | feminine | mein**e** Mutter | mein**e** Mutter |
    | neuter | mein Kind | mein Kind |
    | plural | mein**e** Eltern | mein**e** Eltern |

    *euer* loses its second *e* when an ending is added: *eure Kinder*.

    *sein* or *ihr* depends on the **owner**: Peter and his sister → *Peter und **seine**
    Schwester*; Maria and her brother → *Maria und **ihr** Bruder*.
    """, [
    single("Anna und ___ Bruder wohnen in Bonn.", ["sein", "ihr", "ihre", "seine"], "ihr",
           "The owner is Anna → *ihr*; *der Bruder* is masculine nominative → no ending."),
    single("Tom besucht ___ Mutter.", ["sein", "seine", "ihr", "ihre"], "seine", "Owner Tom → *sein-*; *die Mutter* → *seine*."),
    short("Ist das ___ Handy, Herr Schmidt? (your, polite)", ["Ihr"], "Polite *Sie* → *Ihr* with a capital I; *das Handy* → no ending."),
    short("Wir lieben ___ Hund. (our)", ["unseren", "unsren", "unsern"], "*der Hund*, accusative → *unseren Hund*."),
    single("Kinder, wo sind ___ Schuhe?", ["euer", "eure", "euere", "ihr"], "eure", "*ihr* (you all) → *euer*, plural with ending → *eure*."),
])

STEM_CHANGE = grammar("stem-changing-verbs", "Verbs with a vowel change: fahren, essen, lesen", "A1", """
    # Verbs with a vowel change

    Some common verbs change their stem vowel in the **du** and **er/sie/es** forms only:

    | change | infinitive | du | er/sie/es |
    |---|---|---|---|
    | a → ä | fahren (to drive/go) | fährst | fährt |
    | a → ä | schlafen (to sleep) | schläfst | schläft |
    | e → i | essen (to eat) | isst | isst |
    | e → i | sprechen (to speak) | sprichst | spricht |
    | e → i | nehmen (to take) | nimmst | nimmt |
    | e → i | helfen (to help) | hilfst | hilft |
    | e → ie | lesen (to read) | liest | liest |
    | e → ie | sehen (to see) | siehst | sieht |
    | au → äu | laufen (to run) | läufst | läuft |

    All other persons are regular: *ich fahre, wir fahren, ihr fahrt*.

    *wissen* (to know a fact) is special: *ich weiß, du weißt, er weiß, wir wissen*.
    """, [
    short("Er ___ nach München. (fahren)", ["fährt", "faehrt"], "a → ä: *er fährt*."),
    short("Was ___ du? (lesen)", ["liest"], "e → ie: *du liest*."),
    single("Sie ___ gern Pizza. (she)", ["esst", "isst", "essen", "isse"], "isst", "e → i: *sie isst*."),
    single("Ich ___ Deutsch und Englisch.", ["spreche", "spriche", "sprichst", "spricht"], "spreche",
           "The vowel changes only in the du and er/sie/es forms: *ich spreche*."),
    short("Ich ___ es nicht. (wissen)", ["weiß", "weiss"], "*ich weiß* (no ending)."),
    single("___ du den Bus? (nehmen)", ["Nehmst", "Nimmst", "Nimmt", "Nehmt"], "Nimmst", "*nehmen* → *du nimmst* (also mm)."),
])

MODALS = grammar("modal-verbs", "Modal verbs: können, müssen, wollen, möchten …", "A1", """
    # Modal verbs

    | | können (can) | müssen (must) | wollen (want) | dürfen (may) | sollen (should) | möchten (would like) |
    |---|---|---|---|---|---|---|
    | ich | kann | muss | will | darf | soll | möchte |
    | du | kannst | musst | willst | darfst | sollst | möchtest |
    | er/sie/es | kann | muss | will | darf | soll | möchte |
    | wir | können | müssen | wollen | dürfen | sollen | möchten |
    | ihr | könnt | müsst | wollt | dürft | sollt | möchtet |
    | sie/Sie | können | müssen | wollen | dürfen | sollen | möchten |

    - *ich* and *er/sie/es* are the same and have **no ending** (except *möchte*).
    - The modal verb is in position 2, the **infinitive goes to the end**:
      *Ich **kann** heute nicht **kommen**.*
    - Beware of false friends: *Ich will* = "I **want**", not "I will". *du musst nicht* = "you
      don't have to"; "you must not" is *du darfst nicht*.
    """, [
    short("___ du schwimmen? (können)", ["Kannst"], "*du kannst*; question → verb first."),
    single("Ich ___ heute arbeiten. (have to)", ["muss", "müsse", "musst", "müssen"], "muss", "*ich muss* — no ending."),
    single("Which sentence is correct?", ["Ich möchte einen Kaffee trinken.", "Ich möchte trinken einen Kaffee.", "Ich trinken möchte einen Kaffee."],
           "Ich möchte einen Kaffee trinken.", "The infinitive goes to the end."),
    single("*Ich will nach Hause gehen* means:", ["I will go home.", "I want to go home.", "I must go home."],
           "I want to go home.", "*wollen* = to want. English *will* is *werden* in German."),
    short("Hier ___ man nicht rauchen. (may not → dürfen)", ["darf"], "*man darf nicht* = one must not / is not allowed to."),
])

SEPARABLE = grammar("separable-verbs", "Separable verbs: aufstehen, einkaufen, anrufen", "A1", """
    # Separable verbs

    Many verbs have a stressed **prefix** that separates from the verb in a statement or question
    and goes to the **end**:

    | infinitive | sentence |
    |---|---|
    | **auf**stehen (get up) | Ich stehe um sieben Uhr **auf**. |
    | **ein**kaufen (shop) | Kaufst du heute **ein**? |
    | **an**rufen (call) | Ruf mich morgen **an**! |
    | **fern**sehen (watch TV) | Er sieht am Abend **fern**. |
    | **mit**kommen (come along) | Kommst du **mit**? |

    Common separable prefixes: *ab-, an-, auf-, aus-, ein-, mit-, nach-, vor-, weg-, zu-, zurück-, fern-*.

    With a modal verb the verb stays together at the end: *Ich muss morgen früh **aufstehen**.*

    **Not** separable: *be-, emp-, ent-, er-, ge-, miss-, ver-, zer-* (*bekommen, verstehen*):
    *Ich verstehe das.*
    """, [
    single("Ich ___ um sechs Uhr ___. (aufstehen)", ["stehe … auf", "aufstehe … –", "stehe auf … –"], "stehe … auf",
           "*Ich stehe um sechs Uhr auf.* — the prefix goes to the end."),
    short("Wann rufst du mich ___? (anrufen)", ["an"], "*Wann rufst du mich an?*"),
    single("Which sentence is correct?", ["Ich muss heute einkaufen.", "Ich muss heute kaufen ein.", "Ich kaufe heute ein müssen."],
           "Ich muss heute einkaufen.", "With a modal verb the infinitive stays whole at the end."),
    single("Which verb is **not** separable?", ["mitkommen", "verstehen", "fernsehen", "einkaufen"], "verstehen",
           "*ver-* is an inseparable prefix: *ich verstehe*."),
    multiple("Which verbs are separable? (Choose all that apply.)",
             ["aufstehen", "bezahlen", "anrufen", "verstehen", "einkaufen"], ["aufstehen", "anrufen", "einkaufen"],
             "*auf-, an-, ein-* are separable prefixes; *be-* and *ver-* are not: *ich bezahle, ich verstehe*."),
    short("Der Zug ___ um 9 Uhr ab. (abfahren)", ["fährt", "faehrt"], "*abfahren* → *Der Zug fährt um 9 Uhr ab.* (a → ä)"),
])

IMPERATIVE = grammar("imperative", "The imperative: giving instructions", "A1", """
    # The imperative

    | to | how | example (kommen) | example (nehmen) |
    |---|---|---|---|
    | Sie | infinitive + Sie | **Kommen Sie**, bitte! | **Nehmen Sie** Platz! |
    | du | du-form without *-st*, no *du* | **Komm**! | **Nimm** das! |
    | ihr | ihr-form without *ihr* | **Kommt**! | **Nehmt** das! |

    - Verbs with e → i / ie keep it in the du-form: *nehmen → nimm, lesen → lies, essen → iss*.
      Verbs with a → ä do **not**: *fahren → fahr!, schlafen → schlaf!*
    - Stems in *-t, -d* add *-e*: *Warte! Arbeite!*
    - *sein*: *Sei ruhig! Seid ruhig! Seien Sie ruhig!*
    - Separable verbs: prefix at the end: *Steh auf! Ruf mich an!*
    - *bitte* makes it polite: *Setzen Sie sich bitte.*
    """, [
    short("(du) ___ das Buch! (lesen)", ["Lies"], "e → ie stays: *Lies das Buch!*"),
    short("(Sie) ___ Sie bitte langsam! (sprechen)", ["Sprechen"], "*Sprechen Sie bitte langsam!*"),
    single("(du, fahren) ___ vorsichtig!", ["Fähr", "Fahr", "Fahrst", "Fährst"], "Fahr", "a → ä does not happen in the imperative: *Fahr vorsichtig!*"),
    single("(ihr, sein) ___ pünktlich!", ["Seid", "Sei", "Seien", "Sind"], "Seid", "*ihr*-imperative of *sein* is *Seid!*"),
    single("(du, aufstehen) ___!", ["Aufsteh", "Steh auf", "Stehst auf", "Steh du auf"], "Steh auf", "The prefix goes to the end: *Steh auf!*"),
])

TIME = grammar("telling-the-time", "Telling the time", "A1", """
    # Telling the time

    *Wie spät ist es?* / *Wie viel Uhr ist es?* — *Es ist …*

    | clock | official (radio, timetables) | everyday |
    |---|---|---|
    | 8:00 | acht Uhr | acht (Uhr) |
    | 8:05 | acht Uhr fünf | fünf nach acht |
    | 8:15 | acht Uhr fünfzehn | Viertel nach acht |
    | 8:30 | acht Uhr dreißig | **halb neun** |
    | 8:45 | acht Uhr fünfundvierzig | Viertel vor neun |
    | 8:50 | acht Uhr fünfzig | zehn vor neun |
    | 20:00 | zwanzig Uhr | acht (Uhr abends) |

    **halb** points to the **next** hour: *halb neun* = 8:30 (half **to** nine), not 9:30!

    At a time: ***um** acht Uhr*. Around: *gegen acht*. From … to: *von acht bis neun*.
    *Uhr* = o'clock; *die Stunde* = hour (a duration): *Der Film dauert zwei Stunden.*
    """, [
    single("*halb vier* is:", ["4:30", "3:30", "3:15", "4:15"], "3:30", "*halb* points to the next hour: halb vier = 3:30."),
    single("7:45 in everyday German:", ["Viertel nach sieben", "Viertel vor acht", "halb acht", "Viertel vor sieben"], "Viertel vor acht",
           "A quarter to eight."),
    short("Der Kurs beginnt ___ neun Uhr. (at)", ["um"], "At a clock time: *um*."),
    single("\"The film lasts two hours.\"", ["Der Film dauert zwei Uhr.", "Der Film dauert zwei Stunden.", "Der Film dauert um zwei Stunden."],
           "Der Film dauert zwei Stunden.", "A duration is *Stunden*; *Uhr* is for the time on the clock."),
])

TIME_PREPOSITIONS = grammar("prepositions-of-time", "Prepositions of time: am, um, im", "A1", """
    # am, um, im

    | preposition | used with | example |
    |---|---|---|
    | **um** | clock times | *um 10 Uhr* |
    | **am** (an dem) | days, dates, parts of the day | *am Montag, am 3. Mai, am Wochenende, am Abend* |
    | **im** (in dem) | months, seasons | *im Juli, im Winter* |
    | **in der** | weeks | *in der Woche* |
    | – | years | *2024* or *im Jahr 2024* (never ~~*in 2024*~~) |

    Exception: *in der Nacht* (at night).

    Other useful ones: *vor* (before / ago: *vor dem Essen, vor zwei Jahren*), *nach* (after:
    *nach dem Kurs*), *ab* (from … on: *ab Montag*), *seit* (since / for: *seit drei Jahren*),
    *von … bis* (from … to).
    """, [
    single("Ich habe ___ Freitag Zeit.", ["um", "am", "im", "in"], "am", "Days: *am Freitag*."),
    single("Wir fahren ___ August nach Italien.", ["am", "um", "im", "in der"], "im", "Months: *im August*."),
    short("Der Zug kommt ___ 14:30 Uhr. (at)", ["um"], "Clock times: *um*."),
    single("\"I was born in 1990.\"", ["Ich bin in 1990 geboren.", "Ich bin 1990 geboren.", "Ich bin am 1990 geboren."],
           "Ich bin 1990 geboren.", "Years stand alone (or *im Jahr 1990*)."),
    single("___ Nacht schlafe ich.", ["Am", "Im", "In der", "Um"], "In der", "The exception: *in der Nacht*."),
])

ACC_PRONOUNS = grammar("accusative-pronouns", "Pronouns in the accusative: mich, dich, ihn …", "A1", """
    # Accusative pronouns

    | nominative | accusative | |
    |---|---|---|
    | ich | **mich** | me |
    | du | **dich** | you |
    | er | **ihn** | him / it (der-word) |
    | sie | sie | her / it (die-word) |
    | es | es | it |
    | wir | **uns** | us |
    | ihr | **euch** | you (all) |
    | sie / Sie | sie / Sie | them / you |

    - *Ich liebe **dich**.* — *Kennst du **ihn**?* — *Besuchst du **uns**?*
    - Things too: *Wo ist der Schlüssel? — Ich suche **ihn**.* (*der Schlüssel* → *ihn*)
    - Prepositions with the accusative (*für, ohne, gegen, um, durch*) use these forms:
      *Das ist für **dich**.*
    """, [
    short("Ich sehe Peter. → Ich sehe ___.", ["ihn"], "*Peter* (er) → accusative *ihn*."),
    single("Der Kaffee ist kalt. Ich trinke ___ nicht.", ["er", "ihn", "es", "sie"], "ihn", "*der Kaffee* → *ihn*."),
    short("Das Geschenk ist für ___. (you, du)", ["dich"], "*für* + accusative: *für dich*."),
    single("Besucht ihr ___ am Sonntag? (us)", ["wir", "uns", "unser", "euch"], "uns", "*wir* → *uns*."),
    single("Die Jacke ist schön. Ich kaufe ___.", ["ihn", "sie", "es", "ihr"], "sie", "*die Jacke* → *sie* (unchanged in the accusative)."),
])

GERN = grammar("gern-lieber-am-liebsten", "Saying what you like: gern, mögen, möchten", "A1", """
    # gern, mögen, möchten

    - **verb + gern** = to like doing something: *Ich schwimme **gern**.* (I like swimming.)
      *Ich tanze **nicht gern**.*
    - **lieber** = prefer, **am liebsten** = like most: *Ich trinke gern Tee, lieber Kaffee und
      am liebsten Kakao.*
    - **mögen** + noun = to like something/someone: *Ich **mag** Schokolade. **Magst** du
      Katzen?* (ich mag, du magst, er mag, wir mögen, ihr mögt, sie mögen)
    - **möchte** = would like (a polite wish): *Ich **möchte** ein Wasser, bitte.*

    Don't say ~~*Ich mag schwimmen*~~ in everyday German; use *Ich schwimme gern*.
    """, [
    single("\"I like reading.\"", ["Ich mag lesen.", "Ich lese gern.", "Ich gern lese.", "Ich lese lieber."],
           "Ich lese gern.", "Activity + *gern*: *Ich lese gern.*"),
    short("___ du Hunde? (mögen)", ["Magst"], "*du magst*."),
    single("Ich trinke gern Tee, aber ___ trinke ich Kaffee. (prefer)", ["gern", "lieber", "am liebsten", "mehr gern"], "lieber",
           "Comparative of *gern* is *lieber*."),
    single("In a café: \"I'd like a tea, please.\"", ["Ich mag einen Tee, bitte.", "Ich möchte einen Tee, bitte.", "Ich will Tee."],
           "Ich möchte einen Tee, bitte.", "*möchte* is the polite way to order."),
])

ES_GIBT_NUMBERS = grammar("numbers", "Numbers and prices", "A1", """
    # Numbers

    0 null, 1 eins, 2 zwei, 3 drei, 4 vier, 5 fünf, 6 sechs, 7 sieben, 8 acht, 9 neun, 10 zehn,
    11 elf, 12 zwölf, 13 dreizehn, 16 **sech**zehn, 17 **sieb**zehn, 20 zwanzig, 30 drei**ß**ig,
    40 vierzig, 60 **sech**zig, 70 **sieb**zig, 100 (ein)hundert, 1000 (ein)tausend.

    From 21 to 99 the **ones come first**, joined with *und*: 21 = *einundzwanzig* ("one and
    twenty"), 48 = *achtundvierzig*, 99 = *neunundneunzig*.

    Big numbers are written as one word: 345 = *dreihundertfünfundvierzig*.

    Prices: 3,50 € = *drei Euro fünfzig*. German uses a **comma** for decimals and a point (or
    space) for thousands: 1.000,50.

    *Wie viel kostet das? — Das kostet zwölf Euro.*
    """, [
    short("Write 37 as a word.", ["siebenunddreißig", "siebenunddreissig"], "Ones first: *sieben-und-dreißig*."),
    single("*vierundfünfzig* is:", ["45", "54", "44", "504"], "54", "vier (4) und fünfzig (50) = 54."),
    single("Which spelling is correct for 16?", ["sechszehn", "sechzehn", "sexzehn"], "sechzehn", "16 = *sechzehn*, 60 = *sechzig* (no s)."),
    single("\"2,50 €\" is said:", ["zwei Komma fünfzig Euro", "zwei Euro fünfzig", "zweihundertfünfzig Euro"], "zwei Euro fünfzig",
           "Prices: *zwei Euro fünfzig*."),
])

A1 = [PRONOUNS, PRESENT_REGULAR, SEIN_HABEN, GENDER, PLURAL, W_QUESTIONS, YES_NO, VERB_SECOND,
      NEGATION, ACCUSATIVE, POSSESSIVES, STEM_CHANGE, MODALS, SEPARABLE, IMPERATIVE, TIME,
      TIME_PREPOSITIONS, ACC_PRONOUNS, GERN, ES_GIBT_NUMBERS]
