"""Vocabulary of the German A1-B1 course by level and theme (see german_a1_b1.py).

One line per entry: `word | plural | translation | example | example translation`.
Nouns start with their article; plural `-` = no plural, `pl` = plural-only noun; other words
leave the plural empty. Strong and irregular verbs show their forms in the translation.
"""

# (level, lesson slug, lesson title, table)
THEMES = [
("A1", "people-and-family", "People and family", """
    der Vater | Väter | father | Mein Vater arbeitet in einer Bank. | My father works in a bank.
    die Mutter | Mütter | mother | Meine Mutter kommt aus Polen. | My mother comes from Poland.
    die Eltern | pl | parents | Meine Eltern wohnen in Köln. | My parents live in Cologne.
    der Bruder | Brüder | brother | Ich habe einen Bruder. | I have a brother.
    die Schwester | Schwestern | sister | Meine Schwester ist zwanzig Jahre alt. | My sister is twenty years old.
    das Kind | Kinder | child | Das Kind spielt im Garten. | The child is playing in the garden.
    der Sohn | Söhne | son | Ihr Sohn heißt Max. | Her son is called Max.
    die Tochter | Töchter | daughter | Unsere Tochter geht in die Schule. | Our daughter goes to school.
    die Großmutter | Großmütter | grandmother | Meine Großmutter ist achtzig. | My grandmother is eighty.
    der Großvater | Großväter | grandfather | Der Großvater liest die Zeitung. | Grandfather is reading the newspaper.
    die Oma | Omas | grandma | Am Sonntag besuchen wir Oma. | On Sunday we visit grandma.
    der Mann | Männer | man; husband | Der Mann dort ist mein Lehrer. | The man over there is my teacher.
    die Frau | Frauen | woman; wife; Mrs | Das ist Frau Schneider. | This is Mrs Schneider.
    der Freund | Freunde | friend (male); boyfriend | Mein Freund heißt Jonas. | My friend is called Jonas.
    die Freundin | Freundinnen | friend (female); girlfriend | Sie geht mit ihrer Freundin ins Kino. | She is going to the cinema with her friend.
    der Name | Namen | name | Wie ist Ihr Name? | What is your name?
    die Familie | Familien | family | Meine Familie ist groß. | My family is big.
    das Baby | Babys | baby | Das Baby ist drei Monate alt. | The baby is three months old.
    der Onkel | Onkel | uncle | Mein Onkel wohnt in Amerika. | My uncle lives in America.
    die Tante | Tanten | aunt | Meine Tante hat zwei Hunde. | My aunt has two dogs.
    der Junge | Jungen | boy | Der Junge spielt Fußball. | The boy is playing football.
    das Mädchen | Mädchen | girl | Das Mädchen heißt Lena. | The girl is called Lena.
    die Geschwister | pl | brothers and sisters, siblings | Hast du Geschwister? | Do you have any brothers or sisters?
    verheiratet | | married | Sind Sie verheiratet? | Are you married?
"""),
("A1", "food-and-drink", "Food and drink", """
    das Brot | Brote | bread; loaf | Ich kaufe ein Brot beim Bäcker. | I buy a loaf of bread at the baker's.
    das Brötchen | Brötchen | bread roll | Zum Frühstück esse ich zwei Brötchen. | For breakfast I eat two rolls.
    die Butter | - | butter | Die Butter ist im Kühlschrank. | The butter is in the fridge.
    der Käse | Käse | cheese | Ich esse gern Käse. | I like eating cheese.
    die Milch | - | milk | Trinkst du Milch? | Do you drink milk?
    das Wasser | - | water | Ein Glas Wasser, bitte. | A glass of water, please.
    der Kaffee | Kaffees | coffee | Ich trinke morgens Kaffee. | I drink coffee in the morning.
    der Tee | Tees | tea | Möchten Sie einen Tee? | Would you like a tea?
    der Saft | Säfte | juice | Möchtest du einen Saft? | Would you like some juice?
    das Bier | Biere | beer | Zwei Bier, bitte! | Two beers, please!
    der Wein | Weine | wine | Zum Essen trinken wir ein Glas Wein. | We drink a glass of wine with the meal.
    der Apfel | Äpfel | apple | Der Apfel ist rot. | The apple is red.
    die Banane | Bananen | banana | Die Bananen kommen aus Ecuador. | The bananas come from Ecuador.
    die Kartoffel | Kartoffeln | potato | Heute gibt es Kartoffeln mit Gemüse. | Today there are potatoes with vegetables.
    das Gemüse | - | vegetables | Gemüse ist gesund. | Vegetables are healthy.
    das Obst | - | fruit | Ich esse jeden Tag Obst. | I eat fruit every day.
    das Fleisch | - | meat | Er isst kein Fleisch. | He doesn't eat meat.
    der Fisch | Fische | fish | Am Freitag essen wir Fisch. | On Friday we're having fish.
    das Ei | Eier | egg | Ich brauche drei Eier für den Kuchen. | I need three eggs for the cake.
    der Kuchen | Kuchen | cake | Der Kuchen schmeckt super. | The cake tastes great.
    die Suppe | Suppen | soup | Die Suppe ist zu heiß. | The soup is too hot.
    der Zucker | - | sugar | Nehmen Sie Zucker in den Kaffee? | Do you take sugar in your coffee?
    das Frühstück | Frühstücke | breakfast | Das Frühstück ist um acht Uhr. | Breakfast is at eight o'clock.
    das Mittagessen | Mittagessen | lunch | Was gibt es zum Mittagessen? | What's for lunch?
    das Abendessen | Abendessen | dinner, supper | Wir kochen das Abendessen zusammen. | We cook dinner together.
    der Hunger | - | hunger | Ich habe Hunger. | I'm hungry.
    der Durst | - | thirst | Hast du Durst? | Are you thirsty?
    die Rechnung | Rechnungen | bill; invoice | Die Rechnung, bitte! | The bill, please!
    lecker | | tasty, delicious | Die Pizza ist sehr lecker. | The pizza is very tasty.
    schmecken | | to taste (good) | Das schmeckt gut! | That tastes good!
"""),
("A1", "home-and-furniture", "Home and furniture", """
    die Wohnung | Wohnungen | flat, apartment | Unsere Wohnung hat drei Zimmer. | Our flat has three rooms.
    das Haus | Häuser | house | Das Haus hat einen Garten. | The house has a garden.
    das Zimmer | Zimmer | room | Mein Zimmer ist klein, aber hell. | My room is small but bright.
    die Küche | Küchen | kitchen | Die Küche ist neu. | The kitchen is new.
    das Bad | Bäder | bathroom; bath | Das Bad ist links. | The bathroom is on the left.
    das Schlafzimmer | Schlafzimmer | bedroom | Im Schlafzimmer steht ein großes Bett. | There is a big bed in the bedroom.
    das Wohnzimmer | Wohnzimmer | living room | Wir sitzen im Wohnzimmer. | We are sitting in the living room.
    der Tisch | Tische | table | Der Tisch ist aus Holz. | The table is made of wood.
    der Stuhl | Stühle | chair | Wir brauchen noch zwei Stühle. | We need two more chairs.
    das Bett | Betten | bed | Das Bett ist sehr bequem. | The bed is very comfortable.
    der Schrank | Schränke | cupboard, wardrobe | Die Teller sind im Schrank. | The plates are in the cupboard.
    das Sofa | Sofas | sofa | Die Katze liegt auf dem Sofa. | The cat is lying on the sofa.
    die Lampe | Lampen | lamp | Die Lampe ist kaputt. | The lamp is broken.
    das Fenster | Fenster | window | Mach bitte das Fenster auf! | Please open the window!
    die Tür | Türen | door | Die Tür ist zu. | The door is closed.
    der Kühlschrank | Kühlschränke | fridge | Der Kühlschrank ist leer. | The fridge is empty.
    der Garten | Gärten | garden | Im Sommer grillen wir im Garten. | In summer we have barbecues in the garden.
    der Balkon | Balkone | balcony | Die Wohnung hat einen Balkon. | The flat has a balcony.
    die Miete | Mieten | rent | Die Miete ist sehr hoch. | The rent is very high.
    der Schlüssel | Schlüssel | key | Wo ist mein Schlüssel? | Where is my key?
    die Treppe | Treppen | stairs, staircase | Die Treppe ist rechts. | The stairs are on the right.
    gemütlich | | cosy | Das Wohnzimmer ist sehr gemütlich. | The living room is very cosy.
"""),
("A1", "town-and-transport", "Town and transport", """
    die Stadt | Städte | town, city | Hamburg ist eine große Stadt. | Hamburg is a big city.
    die Straße | Straßen | street, road | In welcher Straße wohnst du? | Which street do you live in?
    der Bahnhof | Bahnhöfe | railway station | Der Bahnhof ist nicht weit. | The station is not far.
    der Bus | Busse | bus | Der Bus kommt um acht. | The bus comes at eight.
    der Zug | Züge | train | Der Zug hat Verspätung. | The train is late.
    die U-Bahn | U-Bahnen | underground, subway | Ich fahre mit der U-Bahn zur Arbeit. | I take the underground to work.
    die Straßenbahn | Straßenbahnen | tram | Die Straßenbahn hält vor dem Haus. | The tram stops in front of the house.
    das Auto | Autos | car | Unser Auto ist alt. | Our car is old.
    das Fahrrad | Fahrräder | bicycle | Ich fahre jeden Tag Fahrrad. | I ride my bike every day.
    die Haltestelle | Haltestellen | stop (bus, tram) | Wo ist die nächste Haltestelle? | Where is the nearest stop?
    die Fahrkarte | Fahrkarten | ticket (transport) | Ich brauche eine Fahrkarte nach Bonn. | I need a ticket to Bonn.
    der Supermarkt | Supermärkte | supermarket | Der Supermarkt ist bis 22 Uhr geöffnet. | The supermarket is open until 10 pm.
    die Apotheke | Apotheken | pharmacy, chemist's | Die Apotheke ist gegenüber. | The pharmacy is opposite.
    die Bank | Banken | bank (money) | Ich muss zur Bank gehen. | I have to go to the bank.
    die Post | - | post office; post, mail | Ist heute Post für mich da? | Is there any post for me today?
    das Kino | Kinos | cinema | Gehen wir heute Abend ins Kino? | Shall we go to the cinema tonight?
    das Museum | Museen | museum | Das Museum ist montags geschlossen. | The museum is closed on Mondays.
    die Kirche | Kirchen | church | Die Kirche ist sehr alt. | The church is very old.
    der Platz | Plätze | square; seat; space | Der Platz vor dem Rathaus ist sehr schön. | The square in front of the town hall is very beautiful.
    die Ampel | Ampeln | traffic lights | An der Ampel gehen Sie links. | Turn left at the traffic lights.
    links | | left, on the left | Gehen Sie hier links. | Turn left here.
    rechts | | right, on the right | Die Post ist rechts. | The post office is on the right.
    geradeaus | | straight on | Gehen Sie immer geradeaus. | Keep going straight on.
"""),
("A1", "days-and-times", "Days, months and times", """
    der Tag | Tage | day | Ich arbeite acht Stunden am Tag. | I work eight hours a day.
    die Woche | Wochen | week | Die Woche hat sieben Tage. | A week has seven days.
    der Monat | Monate | month | Ich bleibe einen Monat in Berlin. | I'm staying in Berlin for a month.
    das Jahr | Jahre | year | Sie lernt seit einem Jahr Deutsch. | She has been learning German for a year.
    die Stunde | Stunden | hour; lesson | Der Kurs dauert zwei Stunden. | The course lasts two hours.
    die Minute | Minuten | minute | Warte fünf Minuten! | Wait five minutes!
    die Uhr | Uhren | clock, watch; o'clock | Es ist drei Uhr. | It is three o'clock.
    der Montag | Montage | Monday | Am Montag habe ich frei. | I'm off on Monday.
    der Mittwoch | Mittwoche | Wednesday | Der Kurs ist am Mittwoch. | The course is on Wednesday.
    der Freitag | Freitage | Friday | Am Freitag gehen wir aus. | On Friday we're going out.
    der Sonntag | Sonntage | Sunday | Am Sonntag sind die Geschäfte geschlossen. | The shops are closed on Sunday.
    das Wochenende | Wochenenden | weekend | Was machst du am Wochenende? | What are you doing at the weekend?
    der Morgen | Morgen | morning | Guten Morgen! | Good morning!
    der Abend | Abende | evening | Am Abend sehe ich fern. | In the evening I watch TV.
    die Nacht | Nächte | night | Gute Nacht! | Good night!
    der Januar | Januare | January | Im Januar ist es oft kalt. | It's often cold in January.
    der Sommer | Sommer | summer | Im Sommer fahren wir ans Meer. | In summer we go to the seaside.
    der Winter | Winter | winter | Der Winter in Berlin ist lang. | Winter in Berlin is long.
    der Frühling | Frühlinge | spring | Im Frühling blühen die Blumen. | In spring the flowers bloom.
    der Herbst | Herbste | autumn | Im Herbst fallen die Blätter. | In autumn the leaves fall.
    der Geburtstag | Geburtstage | birthday | Wann hast du Geburtstag? | When is your birthday?
    heute | | today | Heute ist Dienstag. | Today is Tuesday.
    gestern | | yesterday | Gestern war ich im Kino. | Yesterday I was at the cinema.
    bald | | soon | Bis bald! | See you soon!
"""),
("A1", "everyday-verbs", "Everyday verbs", """
    kommen | | to come (kommt – kam – ist gekommen) | Ich komme aus Irland. | I come from Ireland.
    gehen | | to go, to walk (geht – ging – ist gegangen) | Wir gehen nach Hause. | We're going home.
    fahren | | to go (by vehicle), to drive (fährt – fuhr – ist gefahren) | Wir fahren mit dem Zug nach Wien. | We're going to Vienna by train.
    wohnen | | to live (somewhere) | Wo wohnst du? | Where do you live?
    arbeiten | | to work | Er arbeitet im Krankenhaus. | He works in the hospital.
    lernen | | to learn, to study | Ich lerne Deutsch. | I'm learning German.
    sprechen | | to speak (spricht – sprach – hat gesprochen) | Sprechen Sie Englisch? | Do you speak English?
    essen | | to eat (isst – aß – hat gegessen) | Was isst du gern? | What do you like to eat?
    trinken | | to drink (trinkt – trank – hat getrunken) | Ich trinke keinen Alkohol. | I don't drink alcohol.
    schlafen | | to sleep (schläft – schlief – hat geschlafen) | Das Baby schläft schon. | The baby is already asleep.
    kaufen | | to buy | Ich kaufe eine Jacke. | I'm buying a jacket.
    machen | | to do, to make | Was machst du heute? | What are you doing today?
    heißen | | to be called (heißt – hieß – hat geheißen) | Ich heiße Tom. | My name is Tom.
    lesen | | to read (liest – las – hat gelesen) | Sie liest ein Buch. | She is reading a book.
    schreiben | | to write (schreibt – schrieb – hat geschrieben) | Schreib mir eine E-Mail! | Write me an email!
    fragen | | to ask | Darf ich etwas fragen? | May I ask something?
    antworten | | to answer | Bitte antworten Sie schnell. | Please answer quickly.
    verstehen | | to understand (versteht – verstand – hat verstanden) | Ich verstehe das nicht. | I don't understand that.
    brauchen | | to need | Brauchst du Hilfe? | Do you need help?
    suchen | | to look for | Ich suche meine Brille. | I'm looking for my glasses.
    finden | | to find; to think (opinion) (findet – fand – hat gefunden) | Wie findest du das Buch? | What do you think of the book?
    spielen | | to play | Die Kinder spielen im Park. | The children are playing in the park.
    bezahlen | | to pay | Kann ich mit Karte bezahlen? | Can I pay by card?
    warten | | to wait | Ich warte auf den Bus. | I'm waiting for the bus.
"""),
("A1", "describing-things", "Describing things; useful words", """
    groß | | big, tall | Mein Bruder ist sehr groß. | My brother is very tall.
    klein | | small, short | Das Zimmer ist klein. | The room is small.
    neu | | new | Ist das Handy neu? | Is the phone new?
    alt | | old | Das Haus ist hundert Jahre alt. | The house is a hundred years old.
    gut | | good, well | Das Essen ist gut. | The food is good.
    schlecht | | bad | Das Wetter ist heute schlecht. | The weather is bad today.
    teuer | | expensive | Die Wohnung ist zu teuer. | The flat is too expensive.
    billig | | cheap | Das T-Shirt ist billig. | The T-shirt is cheap.
    schön | | beautiful, nice | Was für ein schöner Tag! | What a beautiful day!
    schnell | | fast, quick | Der Zug ist schnell. | The train is fast.
    langsam | | slow, slowly | Bitte sprechen Sie langsam. | Please speak slowly.
    müde | | tired | Ich bin sehr müde. | I'm very tired.
    kaputt | | broken | Mein Handy ist kaputt. | My phone is broken.
    richtig | | correct, right | Die Antwort ist richtig. | The answer is correct.
    falsch | | wrong | Das ist leider falsch. | Unfortunately, that's wrong.
    wichtig | | important | Das ist sehr wichtig. | That is very important.
    frei | | free; vacant | Ist hier noch frei? | Is this seat free?
    danke | | thank you | Danke für die Hilfe! | Thanks for the help!
    bitte | | please; you're welcome | Ein Wasser, bitte. | A water, please.
    Entschuldigung | | excuse me; sorry | Entschuldigung, wo ist der Bahnhof? | Excuse me, where is the station?
    Guten Tag | | hello, good day (formal) | Guten Tag, Frau Meyer! | Hello, Mrs Meyer!
    Tschüss | | bye (informal) | Tschüss, bis morgen! | Bye, see you tomorrow!
"""),
("A2", "body-and-health", "Body and health", """
    der Kopf | Köpfe | head | Mir tut der Kopf weh. | My head hurts.
    der Arm | Arme | arm | Er hat sich den Arm gebrochen. | He has broken his arm.
    das Bein | Beine | leg | Mein linkes Bein tut weh. | My left leg hurts.
    die Hand | Hände | hand | Wasch dir die Hände! | Wash your hands!
    der Fuß | Füße | foot | Ich gehe zu Fuß. | I'm walking (going on foot).
    das Auge | Augen | eye | Sie hat blaue Augen. | She has blue eyes.
    das Ohr | Ohren | ear | Ich höre auf dem linken Ohr schlecht. | I can't hear well in my left ear.
    der Mund | Münder | mouth | Machen Sie bitte den Mund auf. | Please open your mouth.
    der Zahn | Zähne | tooth | Ich putze mir zweimal am Tag die Zähne. | I brush my teeth twice a day.
    der Bauch | Bäuche | belly, stomach | Mein Bauch tut weh. | My stomach hurts.
    der Rücken | Rücken | back | Nach der Arbeit tut mir der Rücken weh. | After work my back hurts.
    der Arzt | Ärzte | doctor (male) | Ich muss zum Arzt. | I have to go to the doctor.
    die Ärztin | Ärztinnen | doctor (female) | Die Ärztin untersucht das Kind. | The doctor examines the child.
    das Krankenhaus | Krankenhäuser | hospital | Er liegt im Krankenhaus. | He is in hospital.
    die Tablette | Tabletten | pill, tablet | Nehmen Sie dreimal täglich eine Tablette. | Take one tablet three times a day.
    das Rezept | Rezepte | prescription; recipe | Für das Medikament brauchen Sie ein Rezept. | You need a prescription for this medicine.
    der Termin | Termine | appointment | Ich möchte einen Termin beim Zahnarzt. | I'd like an appointment with the dentist.
    das Fieber | - | fever, temperature | Das Kind hat hohes Fieber. | The child has a high temperature.
    die Erkältung | Erkältungen | cold (illness) | Ich habe eine Erkältung. | I have a cold.
    der Schmerz | Schmerzen | pain | Haben Sie Schmerzen? | Are you in pain?
    krank | | ill, sick | Ich bin krank und bleibe im Bett. | I'm ill and I'm staying in bed.
    gesund | | healthy | Sport ist gesund. | Sport is good for you.
    wehtun | | to hurt (tut weh – tat weh – hat wehgetan) | Was tut Ihnen weh? | Where does it hurt?
"""),
("A2", "clothes-and-shopping", "Clothes and shopping", """
    die Kleidung | - | clothes, clothing | Im Winter braucht man warme Kleidung. | In winter you need warm clothes.
    die Hose | Hosen | trousers | Die Hose ist zu lang. | The trousers are too long.
    das Hemd | Hemden | shirt | Er trägt ein weißes Hemd. | He is wearing a white shirt.
    das Kleid | Kleider | dress | Das Kleid steht dir gut. | The dress suits you.
    der Rock | Röcke | skirt | Sie trägt einen roten Rock. | She is wearing a red skirt.
    die Jacke | Jacken | jacket | Nimm eine Jacke mit, es ist kalt. | Take a jacket, it's cold.
    der Mantel | Mäntel | coat | Der Mantel ist zu warm für den Frühling. | The coat is too warm for spring.
    der Pullover | Pullover | jumper, sweater | Der Pullover ist aus Wolle. | The jumper is made of wool.
    der Schuh | Schuhe | shoe | Diese Schuhe sind bequem. | These shoes are comfortable.
    die Größe | Größen | size | Welche Größe haben Sie? | What size are you?
    die Farbe | Farben | colour | Welche Farbe gefällt dir? | Which colour do you like?
    das Geschäft | Geschäfte | shop; business | Das Geschäft öffnet um neun. | The shop opens at nine.
    die Kasse | Kassen | till, checkout | Bitte zahlen Sie an der Kasse. | Please pay at the till.
    der Preis | Preise | price | Der Preis ist gut. | The price is good.
    das Angebot | Angebote | offer | Äpfel sind heute im Angebot. | Apples are on offer today.
    das Geld | Gelder | money | Ich habe kein Geld dabei. | I don't have any money on me.
    die Tasche | Taschen | bag; pocket | Meine Tasche ist sehr schwer. | My bag is very heavy.
    anprobieren | | to try on | Kann ich die Hose anprobieren? | Can I try the trousers on?
    tragen | | to wear; to carry (trägt – trug – hat getragen) | Sie trägt gern Jeans. | She likes wearing jeans.
    umtauschen | | to exchange (goods) | Kann ich die Schuhe umtauschen? | Can I exchange the shoes?
    bequem | | comfortable | Im Zug ist es bequemer als im Bus. | It's more comfortable on the train than on the bus.
"""),
("A2", "work-and-jobs", "Work and jobs", """
    die Arbeit | Arbeiten | work; job | Ich fahre mit dem Fahrrad zur Arbeit. | I cycle to work.
    der Beruf | Berufe | profession, job | Was sind Sie von Beruf? | What do you do for a living?
    die Firma | Firmen | company, firm | Sie arbeitet bei einer großen Firma. | She works for a big company.
    das Büro | Büros | office | Ich bin bis 17 Uhr im Büro. | I'm in the office until 5 pm.
    der Chef | Chefs | boss (male) | Mein Chef ist heute nicht da. | My boss isn't here today.
    die Chefin | Chefinnen | boss (female) | Die Chefin hat eine Besprechung. | The boss is in a meeting.
    der Kollege | Kollegen | colleague (male) | Mein Kollege hilft mir. | My colleague helps me.
    die Kollegin | Kolleginnen | colleague (female) | Meine Kollegin kommt aus Spanien. | My colleague comes from Spain.
    der Lehrer | Lehrer | teacher (male) | Der Lehrer erklärt die Grammatik. | The teacher explains the grammar.
    die Lehrerin | Lehrerinnen | teacher (female) | Frau Braun ist unsere Lehrerin. | Mrs Braun is our teacher.
    der Koch | Köche | cook, chef | Der Koch arbeitet in einem Restaurant. | The cook works in a restaurant.
    die Verkäuferin | Verkäuferinnen | shop assistant (female) | Die Verkäuferin ist sehr freundlich. | The shop assistant is very friendly.
    der Ingenieur | Ingenieure | engineer (male) | Mein Vater ist Ingenieur. | My father is an engineer.
    die Pflegekraft | Pflegekräfte | nurse, carer | Die Pflegekraft misst das Fieber. | The nurse takes the patient's temperature.
    der Lohn | Löhne | wage(s) | Der Lohn wird am Monatsende überwiesen. | The wages are paid at the end of the month.
    das Gehalt | Gehälter | salary | Das Gehalt ist gut. | The salary is good.
    die Besprechung | Besprechungen | meeting | Die Besprechung beginnt um zehn. | The meeting starts at ten.
    der Feierabend | Feierabende | end of the working day | Um fünf habe ich Feierabend. | I finish work at five.
    die Bewerbung | Bewerbungen | (job) application | Ich schreibe eine Bewerbung. | I'm writing an application.
    der Urlaub | Urlaube | holiday, leave | Ich habe drei Wochen Urlaub. | I have three weeks' holiday.
    verdienen | | to earn | Wie viel verdienst du? | How much do you earn?
    selbstständig | | self-employed | Sie ist seit zwei Jahren selbstständig. | She has been self-employed for two years.
"""),
("A2", "travel-and-holidays", "Travel and holidays", """
    die Reise | Reisen | journey, trip | Gute Reise! | Have a good trip!
    der Flughafen | Flughäfen | airport | Wie komme ich zum Flughafen? | How do I get to the airport?
    das Flugzeug | Flugzeuge | aeroplane | Das Flugzeug landet um 14 Uhr. | The plane lands at 2 pm.
    der Koffer | Koffer | suitcase | Mein Koffer ist zu schwer. | My suitcase is too heavy.
    der Pass | Pässe | passport | Vergiss deinen Pass nicht! | Don't forget your passport!
    das Hotel | Hotels | hotel | Das Hotel liegt direkt am Strand. | The hotel is right on the beach.
    das Einzelzimmer | Einzelzimmer | single room | Ich hätte gern ein Einzelzimmer. | I'd like a single room.
    das Doppelzimmer | Doppelzimmer | double room | Das Doppelzimmer kostet 90 Euro pro Nacht. | The double room costs 90 euros a night.
    die Rezeption | Rezeptionen | reception (desk) | Den Schlüssel bekommen Sie an der Rezeption. | You get the key at reception.
    der Strand | Strände | beach | Wir liegen den ganzen Tag am Strand. | We lie on the beach all day.
    das Meer | Meere | sea | Das Meer ist heute ruhig. | The sea is calm today.
    der Berg | Berge | mountain | Im Urlaub wandern wir in den Bergen. | On holiday we go hiking in the mountains.
    das Gepäck | - | luggage | Wo kann ich mein Gepäck lassen? | Where can I leave my luggage?
    der Ausflug | Ausflüge | excursion, day trip | Am Samstag machen wir einen Ausflug. | On Saturday we're going on a day trip.
    die Sehenswürdigkeit | Sehenswürdigkeiten | sight, attraction | Der Kölner Dom ist eine berühmte Sehenswürdigkeit. | Cologne Cathedral is a famous sight.
    der Stadtplan | Stadtpläne | town map | Haben Sie einen Stadtplan? | Do you have a map of the town?
    die Ankunft | Ankünfte | arrival | Die Ankunft ist um 18 Uhr geplant. | Arrival is planned for 6 pm.
    die Abfahrt | Abfahrten | departure (of a vehicle) | Die Abfahrt ist um 7:15 Uhr. | Departure is at 7:15.
    das Gleis | Gleise | platform, track | Der Zug fährt von Gleis 4 ab. | The train leaves from platform 4.
    buchen | | to book | Ich habe ein Zimmer gebucht. | I have booked a room.
    reisen | | to travel | Sie reist gern allein. | She likes travelling alone.
    übernachten | | to stay overnight | Wir übernachten in einer Jugendherberge. | We're staying in a youth hostel.
"""),
("A2", "weather-and-nature", "Weather and nature", """
    das Wetter | - | weather | Wie ist das Wetter heute? | What's the weather like today?
    die Sonne | Sonnen | sun | Die Sonne scheint. | The sun is shining.
    der Regen | - | rain | Morgen gibt es Regen. | There will be rain tomorrow.
    der Schnee | - | snow | Im Winter liegt hier viel Schnee. | There is a lot of snow here in winter.
    der Wind | Winde | wind | Der Wind ist sehr stark. | The wind is very strong.
    die Wolke | Wolken | cloud | Am Himmel sind keine Wolken. | There are no clouds in the sky.
    der Himmel | Himmel | sky; heaven | Der Himmel ist blau. | The sky is blue.
    das Gewitter | Gewitter | thunderstorm | Heute Abend kommt ein Gewitter. | A thunderstorm is coming this evening.
    die Temperatur | Temperaturen | temperature | Die Temperatur liegt bei 25 Grad. | The temperature is around 25 degrees.
    der Grad | Grade | degree | Es sind minus fünf Grad. | It's minus five degrees.
    der Wald | Wälder | forest, wood | Wir gehen im Wald spazieren. | We go for a walk in the forest.
    der See | Seen | lake | Im Sommer schwimmen wir im See. | In summer we swim in the lake.
    der Fluss | Flüsse | river | Der Rhein ist ein langer Fluss. | The Rhine is a long river.
    die Blume | Blumen | flower | Ich kaufe Blumen für meine Mutter. | I'm buying flowers for my mother.
    der Baum | Bäume | tree | Vor dem Haus steht ein alter Baum. | There is an old tree in front of the house.
    das Tier | Tiere | animal | Welche Tiere leben im Wald? | Which animals live in the forest?
    der Hund | Hunde | dog | Der Hund bellt. | The dog is barking.
    die Katze | Katzen | cat | Unsere Katze schläft gern auf dem Sofa. | Our cat likes sleeping on the sofa.
    regnen | | to rain | Es regnet schon den ganzen Tag. | It has been raining all day.
    scheinen | | to shine; to seem (scheint – schien – hat geschienen) | Hoffentlich scheint morgen die Sonne. | Hopefully the sun will shine tomorrow.
    warm | | warm | Heute ist es warm. | It's warm today.
    kalt | | cold | Das Wasser ist zu kalt zum Schwimmen. | The water is too cold for swimming.
    sonnig | | sunny | Morgen wird es sonnig. | It will be sunny tomorrow.
"""),
("A2", "free-time-and-hobbies", "Free time and hobbies", """
    das Hobby | Hobbys | hobby | Was sind deine Hobbys? | What are your hobbies?
    die Freizeit | - | free time, leisure | Was machst du in deiner Freizeit? | What do you do in your free time?
    der Sport | - | sport | Ich mache jeden Tag Sport. | I do sport every day.
    der Fußball | Fußbälle | football | Er spielt Fußball im Verein. | He plays football in a club.
    der Verein | Vereine | club, association | Der Verein hat zweihundert Mitglieder. | The club has two hundred members.
    das Konzert | Konzerte | concert | Das Konzert war toll. | The concert was great.
    die Musik | - | music | Ich höre gern Musik. | I like listening to music.
    das Instrument | Instrumente | instrument | Spielst du ein Instrument? | Do you play an instrument?
    das Buch | Bücher | book | Das Buch ist spannend. | The book is exciting.
    der Film | Filme | film | Der Film beginnt um 20 Uhr. | The film starts at 8 pm.
    die Party | Partys | party | Kommst du zu meiner Party? | Are you coming to my party?
    das Spiel | Spiele | game; match | Das Spiel endete 2:1. | The match ended 2–1.
    die Mannschaft | Mannschaften | team | Unsere Mannschaft hat gewonnen. | Our team won.
    das Schwimmbad | Schwimmbäder | swimming pool | Im Sommer gehen wir oft ins Schwimmbad. | In summer we often go to the swimming pool.
    der Spaziergang | Spaziergänge | walk | Nach dem Essen machen wir einen Spaziergang. | After the meal we go for a walk.
    die Einladung | Einladungen | invitation | Danke für die Einladung! | Thanks for the invitation!
    wandern | | to hike | Am Wochenende wandern wir in den Alpen. | At the weekend we're hiking in the Alps.
    tanzen | | to dance | Tanzt du gern? | Do you like dancing?
    malen | | to paint | Meine Tochter malt gern Bilder. | My daughter likes painting pictures.
    fotografieren | | to take photos | Er fotografiert gern Tiere. | He likes photographing animals.
    sich treffen | | to meet (each other) (trifft – traf – hat getroffen) | Wir treffen uns um acht vor dem Kino. | We're meeting at eight in front of the cinema.
    Lust haben | | to feel like (doing) something | Hast du Lust auf einen Kaffee? | Do you feel like a coffee?
"""),
("B1", "environment", "Environment", """
    die Umwelt | - | environment | Wir müssen die Umwelt schützen. | We have to protect the environment.
    das Klima | Klimas | climate | Das Klima ändert sich. | The climate is changing.
    der Klimawandel | - | climate change | Der Klimawandel ist ein großes Problem. | Climate change is a big problem.
    der Müll | - | rubbish, waste | Wohin kommt der Müll? | Where does the rubbish go?
    die Mülltonne | Mülltonnen | dustbin, wheelie bin | Das Papier kommt in die blaue Mülltonne. | Paper goes in the blue bin.
    die Energie | Energien | energy | Wir sollten weniger Energie verbrauchen. | We should use less energy.
    der Strom | Ströme | electricity; current, stream | Der Strom ist in Deutschland teuer. | Electricity is expensive in Germany.
    die Luft | - | air | Die Luft in der Stadt ist schlecht. | The air in the city is bad.
    die Verpackung | Verpackungen | packaging | Viele Produkte haben zu viel Verpackung. | Many products have too much packaging.
    die Flasche | Flaschen | bottle | Leere Flaschen bringe ich zum Supermarkt zurück. | I take empty bottles back to the supermarket.
    das Plastik | - | plastic | Im Meer schwimmt viel Plastik. | There is a lot of plastic floating in the sea.
    die Natur | - | nature | Ich bin gern in der Natur. | I like being out in nature.
    die Zukunft | - | future | Was bringt die Zukunft? | What will the future bring?
    schützen | | to protect | Bäume schützen den Boden. | Trees protect the soil.
    trennen | | to separate | Wir trennen Glas, Papier und Plastik. | We separate glass, paper and plastic.
    verbrauchen | | to consume, to use | Das alte Auto verbraucht viel Benzin. | The old car uses a lot of petrol.
    sparen | | to save | Wir sparen Wasser und Strom. | We save water and electricity.
    umweltfreundlich | | environmentally friendly | Das Fahrrad ist umweltfreundlich. | The bicycle is environmentally friendly.
    nachhaltig | | sustainable | Wir kaufen nachhaltige Produkte. | We buy sustainable products.
"""),
("B1", "media-and-technology", "Media and technology", """
    der Computer | Computer | computer | Mein Computer ist sehr langsam. | My computer is very slow.
    das Handy | Handys | mobile phone | Mach bitte dein Handy aus. | Please switch off your phone.
    das Internet | - | internet | Hast du hier Internet? | Do you have internet here?
    die E-Mail | E-Mails | email | Ich habe deine E-Mail bekommen. | I got your email.
    die Nachricht | Nachrichten | message; (pl.) the news | Hast du meine Nachricht gelesen? | Have you read my message?
    die Zeitung | Zeitungen | newspaper | Er liest jeden Morgen die Zeitung. | He reads the newspaper every morning.
    das Fernsehen | - | television (the medium) | Was kommt heute im Fernsehen? | What's on TV today?
    der Bildschirm | Bildschirme | screen | Der Bildschirm ist zu dunkel. | The screen is too dark.
    das Passwort | Passwörter | password | Ich habe mein Passwort vergessen. | I've forgotten my password.
    die Datei | Dateien | file (computer) | Kannst du mir die Datei schicken? | Can you send me the file?
    die Webseite | Webseiten | web page, website | Die Informationen stehen auf unserer Webseite. | The information is on our website.
    das Programm | Programme | programme; (computer) program | Das Programm funktioniert nicht. | The program isn't working.
    die Werbung | - | advertising | Im Fernsehen gibt es zu viel Werbung. | There is too much advertising on TV.
    der Artikel | Artikel | article | Hast du den Artikel über Berlin gelesen? | Have you read the article about Berlin?
    die Sendung | Sendungen | (TV or radio) programme; parcel | Die Sendung beginnt um acht. | The programme starts at eight.
    herunterladen | | to download (lädt herunter – lud herunter – hat heruntergeladen) | Du kannst die App kostenlos herunterladen. | You can download the app for free.
    speichern | | to save (data) | Vergiss nicht, die Datei zu speichern! | Don't forget to save the file!
    schicken | | to send | Schick mir bitte ein Foto. | Please send me a photo.
    online | | online | Ich kaufe oft online ein. | I often shop online.
"""),
("B1", "feelings-and-relationships", "Feelings and relationships", """
    das Gefühl | Gefühle | feeling | Ich habe ein gutes Gefühl. | I have a good feeling.
    die Liebe | - | love | Liebe ist das Wichtigste. | Love is the most important thing.
    die Angst | Ängste | fear | Sie hat Angst vor Spinnen. | She is afraid of spiders.
    die Freude | Freuden | joy | Die Freude war groß. | There was great joy.
    die Beziehung | Beziehungen | relationship | Die beiden haben eine gute Beziehung. | The two of them have a good relationship.
    die Hochzeit | Hochzeiten | wedding | Die Hochzeit ist im Juni. | The wedding is in June.
    der Streit | Streite | argument, quarrel | Sie hatten Streit wegen des Geldes. | They had an argument about money.
    die Freundschaft | Freundschaften | friendship | Unsere Freundschaft ist mir wichtig. | Our friendship is important to me.
    das Vertrauen | - | trust | Vertrauen ist die Basis jeder Beziehung. | Trust is the basis of every relationship.
    die Sorge | Sorgen | worry | Mach dir keine Sorgen! | Don't worry!
    glücklich | | happy | Sie ist sehr glücklich mit ihrer Arbeit. | She is very happy with her work.
    traurig | | sad | Warum bist du so traurig? | Why are you so sad?
    wütend | | angry | Er war wütend auf seinen Bruder. | He was angry with his brother.
    nervös | | nervous | Vor einer Prüfung bin ich immer nervös. | I'm always nervous before an exam.
    enttäuscht | | disappointed | Ich bin von dem Film enttäuscht. | I'm disappointed with the film.
    stolz | | proud | Die Eltern sind stolz auf ihre Tochter. | The parents are proud of their daughter.
    sich verlieben | | to fall in love | Sie hat sich in ihren Nachbarn verliebt. | She has fallen in love with her neighbour.
    sich streiten | | to argue (streitet – stritt – hat gestritten) | Meine Geschwister streiten sich oft. | My brothers and sisters often argue.
    vermissen | | to miss (someone) | Ich vermisse dich. | I miss you.
    sich entschuldigen | | to apologise | Er hat sich bei ihr entschuldigt. | He apologised to her.
"""),
("B1", "education-and-learning", "Education and learning", """
    die Schule | Schulen | school | Die Kinder gehen gern in die Schule. | The children like going to school.
    die Universität | Universitäten | university | Sie studiert an der Universität Wien. | She studies at the University of Vienna.
    das Studium | Studien | (university) studies, degree course | Das Studium dauert drei Jahre. | The degree course lasts three years.
    die Prüfung | Prüfungen | exam | Morgen habe ich eine Prüfung. | I have an exam tomorrow.
    die Note | Noten | mark, grade | Er hat eine gute Note bekommen. | He got a good mark.
    das Zeugnis | Zeugnisse | school report; certificate | Am Ende des Schuljahres gibt es Zeugnisse. | There are reports at the end of the school year.
    die Ausbildung | Ausbildungen | vocational training, apprenticeship | Er macht eine Ausbildung als Koch. | He is training as a cook.
    der Kurs | Kurse | course | Der Kurs beginnt im September. | The course starts in September.
    die Aufgabe | Aufgaben | task, exercise | Die Aufgabe ist nicht schwer. | The task is not difficult.
    die Hausaufgabe | Hausaufgaben | homework (task) | Hast du deine Hausaufgaben gemacht? | Have you done your homework?
    das Wörterbuch | Wörterbücher | dictionary | Schau im Wörterbuch nach! | Look it up in the dictionary!
    der Fehler | Fehler | mistake | Jeder macht Fehler. | Everybody makes mistakes.
    die Erfahrung | Erfahrungen | experience | Sie hat viel Erfahrung im Unterrichten. | She has a lot of teaching experience.
    der Unterricht | - | lessons, teaching | Der Unterricht beginnt um acht Uhr. | Lessons start at eight o'clock.
    studieren | | to study (at university) | Ich studiere Informatik. | I study computer science.
    bestehen | | to pass (an exam) (besteht – bestand – hat bestanden) | Hast du die Prüfung bestanden? | Did you pass the exam?
    wiederholen | | to repeat; to revise | Können Sie das bitte wiederholen? | Could you repeat that, please?
    sich vorbereiten | | to prepare (oneself) | Ich bereite mich auf die Prüfung vor. | I'm preparing for the exam.
"""),
("B1", "society-and-politics", "Society and politics", """
    die Gesellschaft | Gesellschaften | society; company | Unsere Gesellschaft wird immer älter. | Our society is getting older and older.
    die Regierung | Regierungen | government | Die Regierung plant ein neues Gesetz. | The government is planning a new law.
    das Gesetz | Gesetze | law | Das Gesetz gilt ab Januar. | The law applies from January.
    die Wahl | Wahlen | election; choice | Die nächste Wahl ist im Herbst. | The next election is in the autumn.
    die Partei | Parteien | (political) party | Welche Partei wählst du? | Which party are you voting for?
    der Bürger | Bürger | citizen | Die Bürger können mitentscheiden. | Citizens can have a say.
    das Land | Länder | country; state; countryside | Sie wohnt lieber auf dem Land als in der Stadt. | She prefers living in the country to living in the city.
    die Meinung | Meinungen | opinion | Meiner Meinung nach ist das richtig. | In my opinion that is right.
    die Arbeitslosigkeit | - | unemployment | Die Arbeitslosigkeit ist gesunken. | Unemployment has fallen.
    die Steuer | Steuern | tax | Wir zahlen hohe Steuern. | We pay high taxes.
    die Gleichberechtigung | - | equal rights, equality | Gleichberechtigung ist ein wichtiges Thema. | Equality is an important issue.
    das Recht | Rechte | right; law | Jeder Mensch hat das Recht auf Bildung. | Everyone has the right to education.
    die Demokratie | Demokratien | democracy | In einer Demokratie wählen die Bürger das Parlament. | In a democracy the citizens elect the parliament.
    der Ausländer | Ausländer | foreigner (male) | In der Stadt leben viele Ausländer. | Many foreigners live in the city.
    wählen | | to vote; to choose; to dial | Am Sonntag gehe ich wählen. | On Sunday I'm going to vote.
    diskutieren | | to discuss | Wir diskutieren über die Zukunft der Stadt. | We're discussing the future of the town.
    politisch | | political, politically | Sie ist politisch sehr aktiv. | She is very active politically.
    sich engagieren | | to be committed, to get involved | Er engagiert sich für Flüchtlinge. | He is involved in helping refugees.
"""),
]
